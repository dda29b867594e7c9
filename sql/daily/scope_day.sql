-- Grain: one row per valid cafe for the business date: the exact UTC bounds of its local day.
-- Replaces: the batch's scope rows (the run deletes them first). A cafe counts when its row is
-- complete, its time zone is a known IANA name and it was created before its local day ended.

insert into analytics_work.scope (
    batch_id, cafe_id, date, timezone, day_start_at, day_end_at, complete_through, is_final
)

with cafes_checked as (
    select
        c.id as cafe_id,
        c.timezone,
        c.created_at,
        -- A duplicated cafe id cannot be placed in one time zone: the quality gate reports it.
        count(*) over (partition by c.id) as id_count
    from public.cafes as c
    where
        c.id is not null
        and c.name is not null
        and c.created_at is not null
        -- AT TIME ZONE would fail on an unknown name; the gate reports such cafes.
        and c.timezone in (select tz.name from pg_timezone_names as tz)
),

local_days as (
    select
        cafe_id,
        timezone,
        created_at,
        -- Local midnight to local midnight, so a day is 23 or 25 hours long across DST.
        (%(date)s::date)::timestamp at time zone timezone as day_start_at,
        (%(date)s::date + 1)::timestamp at time zone timezone as day_end_at
    from cafes_checked
    where id_count = 1
)

select
    %(batch_id)s as batch_id,
    cafe_id,
    %(date)s::date as date,
    timezone,
    day_start_at,
    day_end_at,
    -- A day that has not ended yet (a manual run for today) stays provisional.
    least(day_end_at, %(now)s::timestamptz) as complete_through,
    day_end_at <= %(now)s::timestamptz as is_final
from local_days
where created_at < day_end_at
