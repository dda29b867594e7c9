-- One row: calls on each cafe's latest day, summed over the cafes shown.
-- A cafe's "today" is its own local date, so the latest row per cafe is read, provisional or not.
with latest_day as (
    select distinct on (c.cafe_id)
        c.cafe_id,
        c.total_calls
    from analytics.call_metrics as c
    where
        true
        [[and c.cafe_id = cast({{cafe_id}} as uuid)]]
    order by c.cafe_id asc, c.date desc
)

select coalesce(sum(ld.total_calls), 0) as calls_today
from latest_day as ld
