-- Grain: analytics_work.order_analytics, one row per cafe day of the batch's scope; and
-- analytics_work.menu_item_sales, one row per cafe day and item sold. Replaces: nothing; the run
-- clears the batch first. One statement, so each cafe day's orders are read once for both tables.

with scope as (
    select
        s.cafe_id,
        s.date,
        s.day_start_at,
        s.complete_through,
        s.is_final
    from analytics_work.scope as s
    where s.batch_id = %(batch_id)s
),

-- The lateral join walks the (cafe_id, created_at) index once per cafe, over exactly that cafe's
-- local day: bounds computed per cafe keep PostgreSQL from scanning the whole table.
valid_orders as (
    select
        scope.cafe_id,
        scope.date,
        o.id as order_id,
        o.delivery_type,
        o.status,
        o.total_amount
    from scope
    cross join lateral (
        select
            o.id,
            o.delivery_type,
            o.status,
            o.total_amount
        from public.orders as o
        where
            o.cafe_id = scope.cafe_id
            and o.created_at >= scope.day_start_at
            and o.created_at < scope.complete_through
            and o.id is not null
            and o.delivery_type in ('delivery', 'dine_in', 'takeaway')
            and o.status in ('completed', 'cancelled')
            and o.total_amount >= 0
    ) as o
),

order_totals as (
    select
        scope.cafe_id,
        scope.date,
        scope.is_final,
        scope.complete_through,
        count(vo.order_id) filter (where vo.status <> 'cancelled') as total_orders,
        coalesce(sum(vo.total_amount) filter (where vo.status <> 'cancelled'), 0) as total_revenue,
        count(vo.order_id) filter (
            where vo.status <> 'cancelled' and vo.delivery_type = 'delivery'
        ) as delivery_orders,
        count(vo.order_id) filter (
            where vo.status <> 'cancelled' and vo.delivery_type = 'dine_in'
        ) as dine_in_orders,
        count(vo.order_id) filter (
            where vo.status <> 'cancelled' and vo.delivery_type = 'takeaway'
        ) as takeaway_orders,
        count(vo.order_id) filter (where vo.status = 'cancelled') as cancelled_orders
    from scope
    -- Every cafe of the scope gets a row, with zeros when it had no orders.
    left join valid_orders as vo
        on scope.cafe_id = vo.cafe_id and scope.date = vo.date
    group by scope.cafe_id, scope.date, scope.is_final, scope.complete_through
),

-- Only items of orders that order_analytics counts: valid and not cancelled. Lateral, so each
-- order probes the order_id index: a hash join would scan every item of the table's history.
valid_items as (
    select
        vo.cafe_id,
        vo.date,
        vo.order_id,
        i.item_name,
        i.quantity,
        i.unit_price
    from valid_orders as vo
    cross join
        lateral (
            select
                i.item_name,
                i.quantity,
                i.unit_price
            from public.order_items as i
            where
                i.order_id = vo.order_id
                and i.id is not null
                and i.item_name is not null
                and i.quantity >= 1
                and i.unit_price >= 0
        ) as i
    where vo.status <> 'cancelled'
),

inserted_orders as (
    insert into analytics_work.order_analytics (
        batch_id, cafe_id, date, total_orders, total_revenue, average_order_value,
        delivery_orders, dine_in_orders, takeaway_orders, cancelled_orders,
        is_final, complete_through
    )
    select
        %(batch_id)s as batch_id,
        cafe_id,
        date,
        total_orders,
        total_revenue,
        round(total_revenue / nullif(total_orders, 0), 2) as average_order_value,
        delivery_orders,
        dine_in_orders,
        takeaway_orders,
        cancelled_orders,
        is_final,
        complete_through
    from order_totals
    returning 1
),

inserted_items as (
    insert into analytics_work.menu_item_sales (
        batch_id, cafe_id, date, item_name, quantity_sold, revenue, order_count,
        is_final, complete_through
    )
    select
        %(batch_id)s as batch_id,
        vi.cafe_id,
        vi.date,
        vi.item_name,
        sum(vi.quantity) as quantity_sold,
        sum(vi.quantity * vi.unit_price) as revenue,
        count(distinct vi.order_id) as order_count,
        scope.is_final,
        scope.complete_through
    from valid_items as vi
    inner join scope
        on vi.cafe_id = scope.cafe_id and vi.date = scope.date
    group by vi.cafe_id, vi.date, vi.item_name, scope.is_final, scope.complete_through
    returning 1
)

select
    (select count(*) from inserted_orders) as order_rows,
    (select count(*) from inserted_items) as item_rows
