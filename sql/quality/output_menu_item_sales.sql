-- Grain: one row per staged menu_item_sales row of the batch.
-- Replaces: nothing; a read for the gate.

select
    w.cafe_id,
    w.date,
    w.item_name,
    w.quantity_sold,
    w.revenue,
    w.order_count
from analytics_work.menu_item_sales as w
where w.batch_id = %(batch_id)s
