-- Grain: one row per alert (rule and subject) in analytics.alert_events, newest activity first,
-- with when it was last delivered and how many of its notifications still wait in the outbox.
-- Serves the alert API, which replaces GET /api/alerts of the original application server.

with params as (
    select %(status)s::text as wanted_status
),

deliveries as (
    select
        outbox.fingerprint,
        max(outbox.delivered_at) as last_delivered_at,
        count(*) filter (where outbox.delivered_at is null) as pending_deliveries
    from analytics.alert_deliveries as outbox
    group by outbox.fingerprint
)

select
    events.rule_name,
    events.subject,
    events.subject_label,
    events.kind,
    events.severity,
    events.status,
    events.measured_value,
    events.comparison,
    events.threshold,
    events.detail,
    events.first_seen_at,
    events.last_seen_at,
    events.last_notified_at,
    deliveries.last_delivered_at,
    events.resolved_at,
    coalesce(deliveries.pending_deliveries, 0) as pending_deliveries
from analytics.alert_events as events
cross join params
left join deliveries
    on events.fingerprint = deliveries.fingerprint
where params.wanted_status = 'all' or events.status = params.wanted_status
order by events.last_seen_at desc, events.rule_name asc, events.subject asc
limit %(row_limit)s
