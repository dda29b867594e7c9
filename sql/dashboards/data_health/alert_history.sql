-- One row per alert (rule and subject): its state, value against threshold, and when it was seen
-- and notified, newest first. Replaces the original application server's in-memory alert list.
select
    a.rule_name,
    a.subject_label as subject,
    a.severity,
    a.status,
    a.measured_value,
    a.threshold,
    a.first_seen_at,
    a.last_seen_at,
    a.last_notified_at
from analytics.alert_events as a
where
    true
    [[and a.last_seen_at >= cast({{date_from}} as timestamptz)]]
    [[and a.first_seen_at < cast({{date_to}} as timestamptz) + interval '1 day']]
order by a.last_seen_at desc, a.rule_name asc
limit 200
