-- One row per menu item, the ten with the most revenue over the chosen days and cafes.
-- Items of cancelled orders are already left out of menu_item_sales.
select
    m.item_name,
    sum(m.revenue) as revenue,
    sum(m.quantity_sold) as quantity_sold
from analytics.menu_item_sales as m
where
    true
    [[and m.cafe_id = cast({{cafe_id}} as uuid)]]
    [[and m.date >= {{date_from}}]]
    [[and m.date <= {{date_to}}]]
group by m.item_name
order by revenue desc, m.item_name asc
limit 10
