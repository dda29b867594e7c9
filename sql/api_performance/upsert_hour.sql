-- Grain: one row per UTC hour and normalised endpoint that had requests (DESIGN section 5b).
-- Writes one hour's figures from parallel arrays (one element per endpoint); an existing row is
-- updated in place, keeping created_at. `hour` is migration 003's column name, hence noqa RF04.
insert into analytics.api_performance as target (  -- noqa: RF04
    hour,
    endpoint,
    requests,
    errors,
    p50_ms,
    p95_ms,
    p99_ms,
    cache_hit_rate
)
select
    %(hour)s::timestamptz as hour,  -- noqa: RF04
    figures.endpoint,
    figures.requests,
    figures.errors,
    figures.p50_ms,
    figures.p95_ms,
    figures.p99_ms,
    figures.cache_hit_rate
from
    unnest(
        %(endpoints)s::text[],
        %(requests)s::integer[],
        %(errors)s::integer[],
        %(p50_ms)s::double precision[],
        %(p95_ms)s::double precision[],
        %(p99_ms)s::double precision[],
        %(cache_hit_rates)s::double precision[]
    ) as figures (endpoint, requests, errors, p50_ms, p95_ms, p99_ms, cache_hit_rate)
on conflict (hour, endpoint) do update set
    requests = excluded.requests,
    errors = excluded.errors,
    p50_ms = excluded.p50_ms,
    p95_ms = excluded.p95_ms,
    p99_ms = excluded.p99_ms,
    cache_hit_rate = excluded.cache_hit_rate,
    updated_at = now()
