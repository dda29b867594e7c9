-- Grain: one row per cafe with enough reservations due on its local yesterday: no-shows / due.
-- Due means not cancelled beforehand; only sealed rows of the cafe's local yesterday count.

with params as (
    select
        %(now)s::timestamptz as checked_at,
        %(min_reservations)s::integer as min_reservations
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

due as (
    select
        yesterday.cafe_id,
        yesterday.name,
        yesterday.business_date,
        res.cafe_id is not null as is_published,
        res.no_show_reservations,
        res.total_reservations - res.cancelled_reservations as due_reservations
    from yesterday
    left join analytics.reservation_analytics as res
        on
            yesterday.cafe_id = res.cafe_id
            and yesterday.business_date = res.date
            and res.is_final
)

-- No sealed row yet: measured_value NULL (the alert holds). Too few reservations: no row.
select
    due.cafe_id::text as subject,
    coalesce(due.name, due.cafe_id::text) as subject_label,
    round(due.no_show_reservations::numeric / nullif(due.due_reservations, 0), 4)
        as measured_value,
    coalesce(
        due.no_show_reservations || ' no-shows of ' || due.due_reservations
        || ' reservations due on ' || due.business_date,
        due.business_date || ' is not published yet'
    ) as detail
from due
cross join params
where
    not due.is_published
    or due.due_reservations >= params.min_reservations
