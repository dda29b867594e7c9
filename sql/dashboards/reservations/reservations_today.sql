-- One row: reservations for each cafe's latest day, summed over the cafes shown.
-- A cafe's "today" is its own local date, so the latest row per cafe is read, provisional or not.
with latest_day as (
    select distinct on (r.cafe_id)
        r.cafe_id,
        r.total_reservations
    from analytics.reservation_analytics as r
    where
        true
        [[and r.cafe_id = cast({{cafe_id}} as uuid)]]
    order by r.cafe_id asc, r.date desc
)

select coalesce(sum(ld.total_reservations), 0) as reservations_today
from latest_day as ld
