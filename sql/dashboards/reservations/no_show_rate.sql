-- One row: share of reservations that were no-shows over the chosen days and cafes, 0 to 1.
-- Weighted: no-shows over all reservations, never an average of daily rates.
select
    round(
        sum(r.no_show_reservations)::numeric / nullif(sum(r.total_reservations), 0), 4
    ) as no_show_rate
from analytics.reservation_analytics as r
where
    true
    [[and r.cafe_id = cast({{cafe_id}} as uuid)]]
    [[and r.date >= {{date_from}}]]
    [[and r.date <= {{date_to}}]]
