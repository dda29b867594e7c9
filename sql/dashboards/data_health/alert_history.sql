-- One row per alert (rule and subject): its state and when it was seen and notified, newest first.
-- Reads only the columns every version of alert_events has, so later columns do not break it.
select
    a.rule,
    a.subject,
    a.state,
    a.first_seen_at,
    a.last_seen_at,
    a.last_notified_at
from analytics.alert_events as a
where
    true
    [[and a.last_seen_at >= cast({{date_from}} as timestamptz)]]
    [[and a.first_seen_at < cast({{date_to}} as timestamptz) + interval '1 day']]
order by a.last_seen_at desc, a.rule asc
limit 200
