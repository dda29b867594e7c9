-- One row per UTC hour: the slowest endpoint's p50, p95 and p99 latency in milliseconds.
-- Percentiles cannot be averaged across endpoints, so the worst endpoint speaks for the hour.
with last_hour as (
    select max(p.hour) as newest_hour
    from analytics.api_performance as p
)

select
    p.hour,
    max(p.p50_ms) as p50_ms,
    max(p.p95_ms) as p95_ms,
    max(p.p99_ms) as p99_ms
from analytics.api_performance as p
cross join last_hour as lh
where
    p.hour >= coalesce([[cast({{date_from}} as timestamptz),]] lh.newest_hour - interval '7 days')
    [[and p.hour < cast({{date_to}} as timestamptz) + interval '1 day']]
    [[and p.endpoint = {{endpoint}}]]
group by p.hour
order by p.hour asc
