-- Grain: one row per item of the orders the quality gate checks for the batch.
-- Replaces: nothing; a read for the gate.

select
    i.id,
    i.order_id,
    i.item_name,
    i.quantity,
    i.unit_price,
    true as is_order_found
from public.order_items as i
-- The orders the gate has just read; passing their ids spares a second read of orders.
where i.order_id = any(%(order_ids)s::uuid[])
