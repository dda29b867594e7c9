-- Grain: one row per order item whose order does not exist, among the item ids that the items of
-- the batch's dated orders span. Replaces: nothing; a read for the gate.
-- Limitation: items carry no timestamp, so an orphan can only be placed by its id. The app
-- appends items in id order, so orphans written during the day lie among the day's item ids; one
-- near the edge of a span may be reported by two neighbouring days, or by none. Acceptable: they
-- never count in any aggregate, and finding them exactly would scan every item of the history.

select
    i.id,
    i.order_id,
    i.item_name,
    i.quantity,
    i.unit_price,
    false as is_order_found
from public.order_items as i
where
    i.id between %(first_id)s and %(last_id)s
    and not exists (
        select 1
        from public.orders as o
        where o.id = i.order_id
    )
