-- One row per date of the 30 days up to the latest day loaded: answered and missed calls.
-- The window ends at the newest date loaded, not at the server's clock, so old data still shows.
with last_day as (
    select max(c.date) as newest_date
    from analytics.call_metrics as c
)

select
    c.date,
    sum(c.answered_calls) as answered_calls,
    sum(c.missed_calls) as missed_calls
from analytics.call_metrics as c
inner join last_day as ld on c.date > ld.newest_date - 30
where
    true
    [[and c.cafe_id = cast({{cafe_id}} as uuid)]]
group by c.date
order by c.date asc
