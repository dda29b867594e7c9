-- Grain: one row per cafe with enough calls on its local yesterday: answered calls / all calls.
-- Yesterday is the cafe's own local date before the one %(now)s falls on; only sealed rows count.

with params as (
    select
        %(now)s::timestamptz as checked_at,
        %(min_calls)s::integer as min_calls
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
)

-- No sealed row yet: measured_value NULL, so an alert of the day before neither repeats nor
-- resolves before the day is published. Too few calls: no row, a quiet day clears the alert.
select
    yesterday.cafe_id::text as subject,
    coalesce(yesterday.name, yesterday.cafe_id::text) as subject_label,
    round(calls.answered_calls::numeric / nullif(calls.total_calls, 0), 4) as measured_value,
    coalesce(
        calls.answered_calls || ' of ' || calls.total_calls || ' calls answered on '
        || yesterday.business_date,
        yesterday.business_date || ' is not published yet'
    ) as detail
from yesterday
left join analytics.call_metrics as calls
    on
        yesterday.cafe_id = calls.cafe_id
        and yesterday.business_date = calls.date
        and calls.is_final
cross join params
where
    calls.cafe_id is null
    or calls.total_calls >= params.min_calls
