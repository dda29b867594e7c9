-- Grain: one row for the whole API: the cache hit rate of the hour before %(now)s, 0 to 1.
-- Reads the hourly rows that overlap that hour; replaces the original server's in-memory check.
-- Limitation: rows are weighted by all their requests, not only those that touched the cache,
-- which api_performance does not count; endpoints without cache data are left out entirely.

with params as (
    select
        %(now)s::timestamptz as checked_at,
        %(min_requests)s::integer as min_requests
),

recent as (
    select
        perf.requests,
        perf.cache_hit_rate
    from analytics.api_performance as perf
    cross join params
    where
        perf.hour > params.checked_at - interval '2 hours'
        and perf.hour < params.checked_at
        and perf.cache_hit_rate is not null
        and perf.requests > 0
),

overall as (
    select
        sum(recent.requests) as requests,
        sum(recent.cache_hit_rate * recent.requests) / sum(recent.requests) as cache_hit_rate
    from recent
)

select
    'api' as subject,
    'AANS API (all endpoints)' as subject_label,
    round(overall.cache_hit_rate::numeric, 4) as measured_value,
    overall.requests || ' requests with cache data in the last hour' as detail
from overall
cross join params
where overall.requests >= params.min_requests
