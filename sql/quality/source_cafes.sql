-- Grain: one row per cafe of the app, all of them: a small table, checked whole on every run.
-- Replaces: nothing; a read for the gate.

select
    c.id,
    c.name,
    c.timezone,
    c.created_at,
    -- AT TIME ZONE accepts more than IANA names; the contract asks for an IANA name.
    c.timezone in (select tz.name from pg_timezone_names as tz) as is_timezone_known
from public.cafes as c
