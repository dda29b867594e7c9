-- Grain: one row for the window [since, until): the API's requests, errors, p95 latency and cache
-- hit rate over the hourly rows of analytics.api_performance. Serves the alert API's summary,
-- which replaces GET /api/performance/summary of the original application server.

with params as (
    select
        %(since)s::timestamptz as since_at,
        %(until)s::timestamptz as until_at
),

window_hours as (
    select
        perf.hour,
        perf.endpoint,
        perf.requests,
        perf.errors,
        perf.p95_ms,
        perf.cache_hit_rate
    from analytics.api_performance as perf
    cross join params
    where
        perf.hour >= params.since_at
        and perf.hour < params.until_at
)

-- p95 and cache hit rate blend the hourly figures weighted by requests (percentiles do not add
-- up); the worst hourly p95 is given beside it for the spikes a blend hides.
select
    coalesce(sum(window_hours.requests), 0) as requests,
    coalesce(sum(window_hours.errors), 0) as errors,
    round(sum(window_hours.errors)::numeric / nullif(sum(window_hours.requests), 0), 4)
        as error_rate,
    round(
        (
            sum(window_hours.p95_ms * window_hours.requests)
            / nullif(sum(window_hours.requests) filter (where window_hours.p95_ms is not null), 0)
        )::numeric,
        1
    ) as p95_ms,
    max(window_hours.p95_ms) as worst_hour_p95_ms,
    round(
        (
            sum(window_hours.cache_hit_rate * window_hours.requests)
            / nullif(
                sum(window_hours.requests)
                filter (where window_hours.cache_hit_rate is not null),
                0
            )
        )::numeric,
        4
    ) as cache_hit_rate,
    count(distinct window_hours.endpoint) as endpoints,
    count(distinct window_hours.hour) as hours_with_traffic
from window_hours
