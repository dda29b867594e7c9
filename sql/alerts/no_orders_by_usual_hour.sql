-- Grain: one row per cafe that had orders on each of the last 7 sealed local days and whose
-- local clock has passed the hour by which it usually has orders: today's orders so far, from the
-- intraday refresh's provisional row (0 fires). A stale refresh says nothing: NULL, no alert.

with params as (
    select
        %(now)s::timestamptz as checked_at,
        %(by_hour)s::integer as by_hour,
        %(max_refresh_age)s::interval as max_refresh_age
),

valid_cafes as (
    -- A cafe with an unknown time zone would make the whole statement fail; leave it out.
    select
        cafes.id,
        cafes.name,
        cafes.timezone
    from public.cafes as cafes
    where cafes.timezone in (select tz.name from pg_catalog.pg_timezone_names as tz)
),

local_clock as (
    select
        valid_cafes.id as cafe_id,
        valid_cafes.name,
        (params.checked_at at time zone valid_cafes.timezone) as local_time,
        (params.checked_at at time zone valid_cafes.timezone)::date as today
    from valid_cafes
    cross join params
),

busy_week as (
    select local_clock.cafe_id
    from local_clock
    inner join analytics.order_analytics as orders
        on
            local_clock.cafe_id = orders.cafe_id
            and orders.date between local_clock.today - 7 and local_clock.today - 1
    where
        orders.is_final
        and orders.total_orders > 0
    group by local_clock.cafe_id
    having count(*) = 7
)

select
    local_clock.cafe_id::text as subject,
    coalesce(local_clock.name, local_clock.cafe_id::text) as subject_label,
    -- Only a fresh provisional row is evidence of silence.
    case
        when today.complete_through >= params.checked_at - params.max_refresh_age
            then today.total_orders
    end as measured_value,
    'no order by ' || lpad(params.by_hour::text, 2, '0') || ':00 local on ' || local_clock.today
    || ', after orders on each of the 7 days before' as detail
from local_clock
cross join params
inner join busy_week
    on local_clock.cafe_id = busy_week.cafe_id
left join analytics.order_analytics as today
    on
        local_clock.cafe_id = today.cafe_id
        and local_clock.today = today.date
where extract(hour from local_clock.local_time) >= params.by_hour
