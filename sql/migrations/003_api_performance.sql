-- One row per UTC hour and normalised endpoint that had requests (DESIGN section 5b).
-- Re-running an hour replaces its rows.

create table analytics.api_performance (
    hour timestamptz not null,
    endpoint text not null,
    requests integer not null,
    errors integer not null,
    p50_ms double precision,
    p95_ms double precision,
    p99_ms double precision,
    cache_hit_rate double precision check (cache_hit_rate between 0 and 1),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (hour, endpoint)
);
