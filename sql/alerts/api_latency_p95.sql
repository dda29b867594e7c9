-- Grain: one row per endpoint with requests in the hour before %(now)s: its p95 latency in ms.
-- Reads the hourly rows that overlap that hour; replaces the original server's in-memory check.
-- Limitation: percentiles do not add up, so two partial hours are blended weighted by requests;
-- close to the true p95 when traffic is steady, which is what an on-call threshold needs.

with params as (
    select
        %(now)s::timestamptz as checked_at,
        %(min_requests)s::integer as min_requests
),

recent as (
    select
        perf.endpoint,
        perf.requests,
        perf.p95_ms
    from analytics.api_performance as perf
    cross join params
    -- An hour row covers [hour, hour + 1h): it overlaps [now - 1h, now) when it starts after
    -- now - 2h and before now.
    where
        perf.hour > params.checked_at - interval '2 hours'
        and perf.hour < params.checked_at
        and perf.p95_ms is not null
        and perf.requests > 0
),

by_endpoint as (
    select
        recent.endpoint,
        sum(recent.requests) as requests,
        sum(recent.p95_ms * recent.requests) / sum(recent.requests) as p95_ms
    from recent
    group by recent.endpoint
)

select
    by_endpoint.endpoint as subject,
    by_endpoint.endpoint as subject_label,
    round(by_endpoint.p95_ms::numeric, 1) as measured_value,
    by_endpoint.requests || ' requests in the last hour' as detail
from by_endpoint
cross join params
where by_endpoint.requests >= params.min_requests
