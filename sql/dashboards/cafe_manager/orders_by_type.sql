-- One row per delivery type: orders not cancelled over the chosen days and cafes.
-- Replaces three separate counts of the original design with one pie.
with totals as (
    select
        coalesce(sum(o.delivery_orders), 0) as delivery_orders,
        coalesce(sum(o.dine_in_orders), 0) as dine_in_orders,
        coalesce(sum(o.takeaway_orders), 0) as takeaway_orders
    from analytics.order_analytics as o
    where
        true
        [[and o.cafe_id = cast({{cafe_id}} as uuid)]]
        [[and o.date >= {{date_from}}]]
        [[and o.date <= {{date_to}}]]
)

select
    by_type.delivery_type,
    by_type.orders
from totals as t
cross join lateral (
    values
    ('Delivery', t.delivery_orders),
    ('Dine in', t.dine_in_orders),
    ('Takeaway', t.takeaway_orders)
) as by_type (delivery_type, orders)
