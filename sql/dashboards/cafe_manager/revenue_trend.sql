-- One row per date: revenue and orders over the chosen cafes and days.
-- Provisional days (is_final false) are included so the line reaches today.
select
    o.date,
    sum(o.total_revenue) as revenue,
    sum(o.total_orders) as orders
from analytics.order_analytics as o
where
    true
    [[and o.cafe_id = cast({{cafe_id}} as uuid)]]
    [[and o.date >= {{date_from}}]]
    [[and o.date <= {{date_to}}]]
group by o.date
order by o.date asc
