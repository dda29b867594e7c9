-- Grain: one row per staged call_metrics row of the batch, with the derived values the output
-- suite checks. Replaces: nothing; a read for the gate.

select
    w.cafe_id,
    w.date,
    w.total_calls,
    w.answered_calls,
    w.missed_calls,
    w.average_duration,
    w.peak_hour,
    w.answered_calls + w.missed_calls - w.total_calls as call_status_gap
from analytics_work.call_metrics as w
where w.batch_id = %(batch_id)s
