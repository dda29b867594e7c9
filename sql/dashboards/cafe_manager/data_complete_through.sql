-- One row: the moment up to which today's order numbers are complete, and whether they are final.
-- The oldest complete_through over the cafes shown: a sum is only as fresh as its stalest part.
with latest_day as (
    select distinct on (o.cafe_id)
        o.cafe_id,
        o.complete_through,
        o.is_final
    from analytics.order_analytics as o
    where
        true
        [[and o.cafe_id = cast({{cafe_id}} as uuid)]]
    order by o.cafe_id asc, o.date desc
)

select
    to_char(min(ld.complete_through) at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')
    || case when bool_and(ld.is_final) then ', final' else ', provisional' end as complete_through
from latest_day as ld
