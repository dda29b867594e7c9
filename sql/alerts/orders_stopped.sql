-- Grain: one row per cafe that had orders on each of the 7 local days before yesterday: the
-- number of orders of its local yesterday (0 means the cafe went silent). Sealed rows only.

with params as (
    select %(now)s::timestamptz as checked_at
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

yesterday as (
    select
        valid_cafes.id as cafe_id,
        valid_cafes.name,
        (params.checked_at at time zone valid_cafes.timezone)::date - 1 as business_date
    from valid_cafes
    cross join params
),

busy_week as (
    select yesterday.cafe_id
    from yesterday
    inner join analytics.order_analytics as orders
        on
            yesterday.cafe_id = orders.cafe_id
            and orders.date between yesterday.business_date - 7 and yesterday.business_date - 1
    where
        orders.is_final
        and orders.total_orders > 0
    group by yesterday.cafe_id
    having count(*) = 7
)

-- No sealed row yet: measured_value NULL, the alert holds until the day is published.
select
    yesterday.cafe_id::text as subject,
    coalesce(yesterday.name, yesterday.cafe_id::text) as subject_label,
    orders.total_orders as measured_value,
    coalesce(
        'orders every day from ' || yesterday.business_date - 7 || ' to '
        || yesterday.business_date - 1 || ', ' || orders.total_orders || ' on '
        || yesterday.business_date,
        yesterday.business_date || ' is not published yet'
    ) as detail
from yesterday
inner join busy_week
    on yesterday.cafe_id = busy_week.cafe_id
left join analytics.order_analytics as orders
    on
        yesterday.cafe_id = orders.cafe_id
        and yesterday.business_date = orders.date
        and orders.is_final
