-- Grain: one row per valid cafe and open local day at the refresh moment: the cafe's current
-- local day so far, and its previous local day until a daily run has sealed it. Replaces: the
-- batch's scope rows (the run deletes them first). Every row is provisional: only the daily run
-- seals a day.

insert into analytics_work.scope (
    batch_id, cafe_id, date, timezone, day_start_at, day_end_at, complete_through, is_final
)

with cafes_checked as (
    select
        c.id as cafe_id,
        c.timezone,
        c.created_at,
        count(*) over (partition by c.id) as id_count
    from public.cafes as c
    where
        c.id is not null
        and c.name is not null
        and c.created_at is not null
        and c.timezone in (select tz.name from pg_timezone_names as tz)
),

local_today as (
    select
        cafe_id,
        timezone,
        created_at,
        (%(now)s::timestamptz at time zone timezone)::date as today
    from cafes_checked
    where id_count = 1
),

open_days as (
    select
        lt.cafe_id,
        lt.timezone,
        lt.created_at,
        lt.today as date
    from local_today as lt

    union all

    -- Yesterday stays open until the daily run publishes it final.
    select
        lt.cafe_id,
        lt.timezone,
        lt.created_at,
        lt.today - 1 as date
    from local_today as lt
    where not exists (
        select 1
        from analytics.order_analytics as oa
        where oa.cafe_id = lt.cafe_id and oa.date = lt.today - 1 and oa.is_final
    )
),

bounds as (
    select
        cafe_id,
        timezone,
        created_at,
        date,
        date::timestamp at time zone timezone as day_start_at,
        (date + 1)::timestamp at time zone timezone as day_end_at
    from open_days
)

select
    %(batch_id)s as batch_id,
    cafe_id,
    date,
    timezone,
    day_start_at,
    day_end_at,
    least(day_end_at, %(now)s::timestamptz) as complete_through,
    false as is_final
from bounds
where created_at < day_end_at
