-- Grain: one row per cafe with reviews on its local yesterday: how many stars yesterday's average
-- fell below the cafe's review-weighted average over the baseline days before it (28 by default).

with params as (
    select
        %(now)s::timestamptz as checked_at,
        %(baseline_days)s::integer as baseline_days,
        %(min_baseline_reviews)s::integer as min_baseline_reviews
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

latest as (
    select
        yesterday.cafe_id,
        yesterday.name,
        yesterday.business_date,
        sat.cafe_id is not null as is_published,
        sat.average_rating,
        sat.total_reviews
    from yesterday
    left join analytics.customer_satisfaction as sat
        on
            yesterday.cafe_id = sat.cafe_id
            and yesterday.business_date = sat.date
            and sat.is_final
),

baseline as (
    -- Weighted by reviews: a day with 20 reviews says more about the level than a day with 1.
    select
        latest.cafe_id,
        sum(sat.average_rating * sat.total_reviews) / sum(sat.total_reviews) as rating_level,
        sum(sat.total_reviews) as reviews
    from latest
    cross join params
    inner join analytics.customer_satisfaction as sat
        on
            latest.cafe_id = sat.cafe_id
            and latest.business_date - params.baseline_days <= sat.date
            and latest.business_date > sat.date
    where
        sat.is_final
        and sat.total_reviews > 0
    group by latest.cafe_id
)

-- No sealed row yet: measured_value NULL (the alert holds). No reviews yesterday, or too little
-- history to compare with: no row, so an earlier alert clears.
select
    latest.cafe_id::text as subject,
    coalesce(latest.name, latest.cafe_id::text) as subject_label,
    round(baseline.rating_level - latest.average_rating, 2) as measured_value,
    coalesce(
        'average ' || latest.average_rating || ' on ' || latest.business_date
        || ' (' || latest.total_reviews || ' reviews) against '
        || round(baseline.rating_level, 2) || ' over the previous '
        || params.baseline_days || ' days',
        latest.business_date || ' is not published yet'
    ) as detail
from latest
left join baseline
    on latest.cafe_id = baseline.cafe_id
cross join params
where
    not latest.is_published
    or (latest.total_reviews > 0 and baseline.reviews >= params.min_baseline_reviews)
