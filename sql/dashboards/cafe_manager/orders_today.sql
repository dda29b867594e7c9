-- One row: orders not cancelled on each cafe's latest day, summed over the cafes shown.
-- A cafe's "today" is its own local date, so the latest row per cafe is read, provisional or not.
with latest_day as (
    select distinct on (o.cafe_id)
        o.cafe_id,
        o.total_orders
    from analytics.order_analytics as o
    where
        true
        [[and o.cafe_id = cast({{cafe_id}} as uuid)]]
    order by o.cafe_id asc, o.date desc
)

select coalesce(sum(ld.total_orders), 0) as orders_today
from latest_day as ld
