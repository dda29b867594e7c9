-- Grain: one row for the whole tenant: how many cafes are past their local publish-by time
-- without a sealed row for their local yesterday in analytics.order_analytics.
-- One row, not one per cafe: a stalled pipeline is one problem, not five hundred.

with params as (
    select
        %(now)s::timestamptz as checked_at,
        %(publish_by)s::time as publish_by
),

valid_cafes as (
    -- A cafe with an unknown time zone would make the whole statement fail; leave it out.
    select
        cafes.id,
        cafes.name,
        cafes.timezone,
        cafes.created_at
    from public.cafes as cafes
    where cafes.timezone in (select tz.name from pg_catalog.pg_timezone_names as tz)
),

local_now as (
    select
        valid_cafes.id as cafe_id,
        valid_cafes.name,
        valid_cafes.timezone,
        valid_cafes.created_at,
        params.publish_by,
        (params.checked_at at time zone valid_cafes.timezone) as local_at
    from valid_cafes
    cross join params
),

due as (
    -- A cafe created after its yesterday ended has no row for that day by design.
    select
        local_now.cafe_id,
        local_now.name,
        local_now.local_at::date - 1 as business_date
    from local_now
    where
        local_now.local_at::time >= local_now.publish_by
        and local_now.created_at
        < (local_now.local_at::date::timestamp at time zone local_now.timezone)
),

missing as (
    select
        due.cafe_id,
        due.name,
        due.business_date
    from due
    left join analytics.order_analytics as orders
        on
            due.cafe_id = orders.cafe_id
            and due.business_date = orders.date
            and orders.is_final
    where orders.cafe_id is null
)

select
    'analytics_daily' as subject,
    'analytics_daily publication' as subject_label,
    count(*) as measured_value,
    count(*) || ' cafes past their publish-by time without a published yesterday: '
    || coalesce(string_agg(distinct coalesce(missing.name, missing.cafe_id::text), ', '), '-')
        as detail
from missing
