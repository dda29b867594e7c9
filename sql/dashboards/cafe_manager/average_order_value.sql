-- One row: revenue per order over the chosen days and cafes.
-- Weighted: total revenue over total orders, never an average of the daily averages.
select
    round(
        sum(o.total_revenue) / nullif(sum(o.total_orders), 0), 2
    ) as average_order_value
from analytics.order_analytics as o
where
    true
    [[and o.cafe_id = cast({{cafe_id}} as uuid)]]
    [[and o.date >= {{date_from}}]]
    [[and o.date <= {{date_to}}]]
