-- Grain: one row per staged order_analytics row of the batch, with the derived values the output
-- suite checks. Replaces: nothing; a read for the gate.

select
    w.cafe_id,
    w.date,
    w.total_orders,
    w.cancelled_orders,
    w.total_revenue,
    w.delivery_orders + w.dine_in_orders + w.takeaway_orders - w.total_orders as order_type_gap,
    abs(w.average_order_value * w.total_orders - w.total_revenue)
    / nullif(w.total_orders, 0) as aov_error_per_order
from analytics_work.order_analytics as w
where w.batch_id = %(batch_id)s
