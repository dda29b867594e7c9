-- Grain: one row: the instant the last valid cafe finishes its local day of the business date
-- (NULL with no cafe). Replaces: nothing; the daily run waits for it before staging the day.

select max((%(date)s::date + 1)::timestamp at time zone c.timezone) as day_end_at
from public.cafes as c
where
    c.id is not null
    and c.timezone in (select tz.name from pg_timezone_names as tz)
