-- alert_events: one row per fingerprint (rule and subject, e.g. a cafe or an endpoint): its state.
-- alert_deliveries: one row per notification and channel, the outbox a run delivers and retries.
-- Replaces the in-memory alert list of the original application server.

create table analytics.alert_events (
    fingerprint text primary key,
    rule_name text not null,
    subject text not null,
    subject_label text not null,
    kind text not null check (kind in ('alert', 'check_error')),
    severity text not null,
    status text not null check (status in ('firing', 'resolved')),
    measured_value double precision,
    threshold double precision,
    comparison text,
    detail text,
    first_seen_at timestamptz not null,
    last_seen_at timestamptz not null,
    last_notified_at timestamptz,
    resolved_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index alert_events_status_idx on analytics.alert_events (status, rule_name);

create table analytics.alert_deliveries (
    id bigserial primary key,
    fingerprint text not null references analytics.alert_events (fingerprint),
    notification text not null check (notification in ('firing', 'reminder', 'resolved')),
    channel text not null,
    payload jsonb not null,
    attempts integer not null default 0,
    last_attempt_at timestamptz,
    last_error text,
    delivered_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- The outbox is read by what is still undelivered; delivered rows stay for the record.
create index alert_deliveries_pending_idx on analytics.alert_deliveries (channel, id)
where delivered_at is null;
