-- One row: share of calls answered over the chosen days and cafes, 0 to 1 (NULL without calls).
-- Weighted: answered calls over all calls, never an average of daily rates.
select
    round(
        sum(c.answered_calls)::numeric / nullif(sum(c.total_calls), 0), 4
    ) as answer_rate
from analytics.call_metrics as c
where
    true
    [[and c.cafe_id = cast({{cafe_id}} as uuid)]]
    [[and c.date >= {{date_from}}]]
    [[and c.date <= {{date_to}}]]
