-- Publishes one batch: for every cafe day of its scope, the analytics tables become exactly
-- the staged rows. Replaces: those cafe days' rows (and, for a daily run, the rows of its
-- business date of cafes no longer in scope). One transaction: no day is seen half written.

-- A provisional batch leaves alone every cafe day that a daily run has sealed.
update analytics_work.scope as s
set
    is_skipped = not %(overwrite_final)s::boolean and exists (
        select 1
        from analytics.order_analytics as t
        where t.cafe_id = s.cafe_id and t.date = s.date and t.is_final
    )
where s.batch_id = %(batch_id)s;

-- order_analytics: drop what the source no longer holds, then upsert
-- (created_at keeps the first write).
delete from analytics.order_analytics as t
using analytics_work.scope as s
where
    s.batch_id = %(batch_id)s
    and not s.is_skipped
    and t.cafe_id = s.cafe_id
    and t.date = s.date
    and not exists (
        select 1
        from analytics_work.order_analytics as w
        where w.batch_id = %(batch_id)s and w.cafe_id = t.cafe_id and w.date = t.date
    );

delete from analytics.order_analytics as t
where
    t.date = %(replace_date)s::date
    and not exists (
        select 1
        from analytics_work.scope as s
        where s.batch_id = %(batch_id)s and s.cafe_id = t.cafe_id
    );

insert into analytics.order_analytics as t (
    cafe_id,
    date,
    total_orders,
    total_revenue,
    average_order_value,
    delivery_orders,
    dine_in_orders,
    takeaway_orders,
    cancelled_orders,
    is_final,
    complete_through
)
select
    w.cafe_id,
    w.date,
    w.total_orders,
    w.total_revenue,
    w.average_order_value,
    w.delivery_orders,
    w.dine_in_orders,
    w.takeaway_orders,
    w.cancelled_orders,
    w.is_final,
    w.complete_through
from analytics_work.order_analytics as w
inner join analytics_work.scope as s
    on w.cafe_id = s.cafe_id and w.date = s.date
where w.batch_id = %(batch_id)s and s.batch_id = %(batch_id)s and not s.is_skipped
on conflict (cafe_id, date) do update set
    total_orders = excluded.total_orders,
    total_revenue = excluded.total_revenue,
    average_order_value = excluded.average_order_value,
    delivery_orders = excluded.delivery_orders,
    dine_in_orders = excluded.dine_in_orders,
    takeaway_orders = excluded.takeaway_orders,
    cancelled_orders = excluded.cancelled_orders,
    is_final = excluded.is_final,
    complete_through = excluded.complete_through,
    updated_at = now()
where
(
    t.total_orders,
    t.total_revenue,
    t.average_order_value,
    t.delivery_orders,
    t.dine_in_orders,
    t.takeaway_orders,
    t.cancelled_orders,
    t.is_final,
    t.complete_through
)
is distinct from
(
    excluded.total_orders,
    excluded.total_revenue,
    excluded.average_order_value,
    excluded.delivery_orders,
    excluded.dine_in_orders,
    excluded.takeaway_orders,
    excluded.cancelled_orders,
    excluded.is_final,
    excluded.complete_through
);

-- menu_item_sales: drop what the source no longer holds, then upsert
-- (created_at keeps the first write).
delete from analytics.menu_item_sales as t
using analytics_work.scope as s
where
    s.batch_id = %(batch_id)s
    and not s.is_skipped
    and t.cafe_id = s.cafe_id
    and t.date = s.date
    and not exists (
        select 1
        from analytics_work.menu_item_sales as w
        where
            w.batch_id = %(batch_id)s
            and w.cafe_id = t.cafe_id
            and w.date = t.date
            and w.item_name = t.item_name
    );

delete from analytics.menu_item_sales as t
where
    t.date = %(replace_date)s::date
    and not exists (
        select 1
        from analytics_work.scope as s
        where s.batch_id = %(batch_id)s and s.cafe_id = t.cafe_id
    );

insert into analytics.menu_item_sales as t (
    cafe_id, date, item_name, quantity_sold, revenue, order_count, is_final, complete_through
)
select
    w.cafe_id,
    w.date,
    w.item_name,
    w.quantity_sold,
    w.revenue,
    w.order_count,
    w.is_final,
    w.complete_through
from analytics_work.menu_item_sales as w
inner join analytics_work.scope as s
    on w.cafe_id = s.cafe_id and w.date = s.date
where w.batch_id = %(batch_id)s and s.batch_id = %(batch_id)s and not s.is_skipped
on conflict (cafe_id, date, item_name) do update set
    quantity_sold = excluded.quantity_sold,
    revenue = excluded.revenue,
    order_count = excluded.order_count,
    is_final = excluded.is_final,
    complete_through = excluded.complete_through,
    updated_at = now()
where
(t.quantity_sold, t.revenue, t.order_count, t.is_final, t.complete_through)
is distinct from
(
    excluded.quantity_sold,
    excluded.revenue,
    excluded.order_count,
    excluded.is_final,
    excluded.complete_through
);

-- call_metrics: drop what the source no longer holds, then upsert
-- (created_at keeps the first write).
delete from analytics.call_metrics as t
using analytics_work.scope as s
where
    s.batch_id = %(batch_id)s
    and not s.is_skipped
    and t.cafe_id = s.cafe_id
    and t.date = s.date
    and not exists (
        select 1
        from analytics_work.call_metrics as w
        where w.batch_id = %(batch_id)s and w.cafe_id = t.cafe_id and w.date = t.date
    );

delete from analytics.call_metrics as t
where
    t.date = %(replace_date)s::date
    and not exists (
        select 1
        from analytics_work.scope as s
        where s.batch_id = %(batch_id)s and s.cafe_id = t.cafe_id
    );

insert into analytics.call_metrics as t (
    cafe_id,
    date,
    total_calls,
    answered_calls,
    missed_calls,
    average_duration,
    peak_hour,
    is_final,
    complete_through
)
select
    w.cafe_id,
    w.date,
    w.total_calls,
    w.answered_calls,
    w.missed_calls,
    w.average_duration,
    w.peak_hour,
    w.is_final,
    w.complete_through
from analytics_work.call_metrics as w
inner join analytics_work.scope as s
    on w.cafe_id = s.cafe_id and w.date = s.date
where w.batch_id = %(batch_id)s and s.batch_id = %(batch_id)s and not s.is_skipped
on conflict (cafe_id, date) do update set
    total_calls = excluded.total_calls,
    answered_calls = excluded.answered_calls,
    missed_calls = excluded.missed_calls,
    average_duration = excluded.average_duration,
    peak_hour = excluded.peak_hour,
    is_final = excluded.is_final,
    complete_through = excluded.complete_through,
    updated_at = now()
where
(
    t.total_calls,
    t.answered_calls,
    t.missed_calls,
    t.average_duration,
    t.peak_hour,
    t.is_final,
    t.complete_through
)
is distinct from
(
    excluded.total_calls,
    excluded.answered_calls,
    excluded.missed_calls,
    excluded.average_duration,
    excluded.peak_hour,
    excluded.is_final,
    excluded.complete_through
);

-- call_metrics_hourly: drop what the source no longer holds, then upsert
-- (created_at keeps the first write).
delete from analytics.call_metrics_hourly as t
using analytics_work.scope as s
where
    s.batch_id = %(batch_id)s
    and not s.is_skipped
    and t.cafe_id = s.cafe_id
    and t.date = s.date
    and not exists (
        select 1
        from analytics_work.call_metrics_hourly as w
        where
            w.batch_id = %(batch_id)s
            and w.cafe_id = t.cafe_id
            and w.date = t.date
            and w.hour = t.hour
    );

delete from analytics.call_metrics_hourly as t
where
    t.date = %(replace_date)s::date
    and not exists (
        select 1
        from analytics_work.scope as s
        where s.batch_id = %(batch_id)s and s.cafe_id = t.cafe_id
    );

insert into analytics.call_metrics_hourly as t (
    cafe_id, date, hour, total_calls, answered_calls, missed_calls, is_final, complete_through
)
select
    w.cafe_id,
    w.date,
    w.hour,
    w.total_calls,
    w.answered_calls,
    w.missed_calls,
    w.is_final,
    w.complete_through
from analytics_work.call_metrics_hourly as w
inner join analytics_work.scope as s
    on w.cafe_id = s.cafe_id and w.date = s.date
where w.batch_id = %(batch_id)s and s.batch_id = %(batch_id)s and not s.is_skipped
on conflict (cafe_id, date, hour) do update set
    total_calls = excluded.total_calls,
    answered_calls = excluded.answered_calls,
    missed_calls = excluded.missed_calls,
    is_final = excluded.is_final,
    complete_through = excluded.complete_through,
    updated_at = now()
where
(t.total_calls, t.answered_calls, t.missed_calls, t.is_final, t.complete_through)
is distinct from
(
    excluded.total_calls,
    excluded.answered_calls,
    excluded.missed_calls,
    excluded.is_final,
    excluded.complete_through
);

-- customer_satisfaction: drop what the source no longer holds, then upsert
-- (created_at keeps the first write).
delete from analytics.customer_satisfaction as t
using analytics_work.scope as s
where
    s.batch_id = %(batch_id)s
    and not s.is_skipped
    and t.cafe_id = s.cafe_id
    and t.date = s.date
    and not exists (
        select 1
        from analytics_work.customer_satisfaction as w
        where w.batch_id = %(batch_id)s and w.cafe_id = t.cafe_id and w.date = t.date
    );

delete from analytics.customer_satisfaction as t
where
    t.date = %(replace_date)s::date
    and not exists (
        select 1
        from analytics_work.scope as s
        where s.batch_id = %(batch_id)s and s.cafe_id = t.cafe_id
    );

insert into analytics.customer_satisfaction as t (
    cafe_id,
    date,
    total_reviews,
    average_rating,
    positive_reviews,
    negative_reviews,
    is_final,
    complete_through
)
select
    w.cafe_id,
    w.date,
    w.total_reviews,
    w.average_rating,
    w.positive_reviews,
    w.negative_reviews,
    w.is_final,
    w.complete_through
from analytics_work.customer_satisfaction as w
inner join analytics_work.scope as s
    on w.cafe_id = s.cafe_id and w.date = s.date
where w.batch_id = %(batch_id)s and s.batch_id = %(batch_id)s and not s.is_skipped
on conflict (cafe_id, date) do update set
    total_reviews = excluded.total_reviews,
    average_rating = excluded.average_rating,
    positive_reviews = excluded.positive_reviews,
    negative_reviews = excluded.negative_reviews,
    is_final = excluded.is_final,
    complete_through = excluded.complete_through,
    updated_at = now()
where
(
    t.total_reviews,
    t.average_rating,
    t.positive_reviews,
    t.negative_reviews,
    t.is_final,
    t.complete_through
)
is distinct from
(
    excluded.total_reviews,
    excluded.average_rating,
    excluded.positive_reviews,
    excluded.negative_reviews,
    excluded.is_final,
    excluded.complete_through
);

-- reservation_analytics: drop what the source no longer holds, then upsert
-- (created_at keeps the first write).
delete from analytics.reservation_analytics as t
using analytics_work.scope as s
where
    s.batch_id = %(batch_id)s
    and not s.is_skipped
    and t.cafe_id = s.cafe_id
    and t.date = s.date
    and not exists (
        select 1
        from analytics_work.reservation_analytics as w
        where w.batch_id = %(batch_id)s and w.cafe_id = t.cafe_id and w.date = t.date
    );

delete from analytics.reservation_analytics as t
where
    t.date = %(replace_date)s::date
    and not exists (
        select 1
        from analytics_work.scope as s
        where s.batch_id = %(batch_id)s and s.cafe_id = t.cafe_id
    );

insert into analytics.reservation_analytics as t (
    cafe_id,
    date,
    total_reservations,
    confirmed_reservations,
    cancelled_reservations,
    no_show_reservations,
    average_party_size,
    is_final,
    complete_through
)
select
    w.cafe_id,
    w.date,
    w.total_reservations,
    w.confirmed_reservations,
    w.cancelled_reservations,
    w.no_show_reservations,
    w.average_party_size,
    w.is_final,
    w.complete_through
from analytics_work.reservation_analytics as w
inner join analytics_work.scope as s
    on w.cafe_id = s.cafe_id and w.date = s.date
where w.batch_id = %(batch_id)s and s.batch_id = %(batch_id)s and not s.is_skipped
on conflict (cafe_id, date) do update set
    total_reservations = excluded.total_reservations,
    confirmed_reservations = excluded.confirmed_reservations,
    cancelled_reservations = excluded.cancelled_reservations,
    no_show_reservations = excluded.no_show_reservations,
    average_party_size = excluded.average_party_size,
    is_final = excluded.is_final,
    complete_through = excluded.complete_through,
    updated_at = now()
where
(
    t.total_reservations,
    t.confirmed_reservations,
    t.cancelled_reservations,
    t.no_show_reservations,
    t.average_party_size,
    t.is_final,
    t.complete_through
)
is distinct from
(
    excluded.total_reservations,
    excluded.confirmed_reservations,
    excluded.cancelled_reservations,
    excluded.no_show_reservations,
    excluded.average_party_size,
    excluded.is_final,
    excluded.complete_through
);
