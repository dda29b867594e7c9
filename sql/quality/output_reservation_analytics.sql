-- Grain: one row per staged reservation_analytics row of the batch, with the derived values the
-- output suite checks. Replaces: nothing; a read for the gate.

select
    w.cafe_id,
    w.date,
    w.total_reservations,
    w.average_party_size,
    w.confirmed_reservations + w.cancelled_reservations + w.no_show_reservations
    - w.total_reservations as reservation_status_excess
from analytics_work.reservation_analytics as w
where w.batch_id = %(batch_id)s
