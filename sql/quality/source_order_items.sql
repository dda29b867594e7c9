-- Grain: one row per order item the quality gate checks for the batch: the items of every order
-- the gate checks, plus items whose order does not exist among the ids the day's items span.
-- Replaces: nothing; a read for the gate.

with day_items as (
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
),

-- Items carry no timestamp, so an orphan item can only be placed by its id: the app appends
-- items in id order, so orphans written during the day lie among the day's item ids.
orphans as (
    select
        i.id,
        i.order_id,
        i.item_name,
        i.quantity,
        i.unit_price,
        false as is_order_found
    from public.order_items as i
    where
        i.id between (select min(d.id) from day_items as d) and (
            select max(d.id) from day_items as d
        )
        and not exists (
            select 1 from public.orders as o
            where o.id = i.order_id
        )
)

select * from day_items
union all
select * from orphans
