-- One row per reservation status over the chosen days and cafes.
-- Pending is what remains once confirmed, cancelled and no-show are taken out of the total.
with totals as (
    select
        coalesce(sum(r.confirmed_reservations), 0) as confirmed_reservations,
        coalesce(sum(r.cancelled_reservations), 0) as cancelled_reservations,
        coalesce(sum(r.no_show_reservations), 0) as no_show_reservations,
        coalesce(sum(
            r.total_reservations
            - r.confirmed_reservations
            - r.cancelled_reservations
            - r.no_show_reservations
        ), 0) as pending_reservations
    from analytics.reservation_analytics as r
    where
        true
        [[and r.cafe_id = cast({{cafe_id}} as uuid)]]
        [[and r.date >= {{date_from}}]]
        [[and r.date <= {{date_to}}]]
)

select
    by_status.status,
    by_status.reservations
from totals as t
cross join lateral (
    values
    ('Confirmed or completed', t.confirmed_reservations),
    ('Pending', t.pending_reservations),
    ('Cancelled', t.cancelled_reservations),
    ('No-show', t.no_show_reservations)
) as by_status (status, reservations)
