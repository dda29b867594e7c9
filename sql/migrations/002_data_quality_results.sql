-- One row per business date, run, source or output table and rule: what the quality gate checked.
-- A re-run adds rows under its own run id; earlier runs stay for the record.

create table analytics.data_quality_results (
    business_date date not null,
    run_id text not null,
    table_name text not null,
    rule text not null,
    rows_checked bigint not null,
    rows_failed bigint not null,
    example_ids text[] not null default '{}',
    threshold numeric(7, 6),
    outcome text not null check (outcome in ('passed', 'warning', 'refused')),
    checked_at timestamptz not null default now(),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (business_date, run_id, table_name, rule)
);

create index data_quality_results_checked_idx on analytics.data_quality_results (checked_at);
