-- One row per endpoint: requests, errors, error rate and its worst hourly p95 and p99.
-- Replaces reading raw request logs in Kibana for the question "which endpoint hurts".
with last_hour as (
    select max(p.hour) as newest_hour
    from analytics.api_performance as p
)

select
    p.endpoint,
    sum(p.requests) as requests,
    sum(p.errors) as errors,
    round(sum(p.errors)::numeric / nullif(sum(p.requests), 0), 4) as error_rate,
    max(p.p95_ms) as worst_p95_ms,
    max(p.p99_ms) as worst_p99_ms
from analytics.api_performance as p
cross join last_hour as lh
where
    p.hour >= coalesce([[cast({{date_from}} as timestamptz),]] lh.newest_hour - interval '7 days')
    [[and p.hour < cast({{date_to}} as timestamptz) + interval '1 day']]
    [[and p.endpoint = {{endpoint}}]]
group by p.endpoint
order by requests desc, p.endpoint asc
