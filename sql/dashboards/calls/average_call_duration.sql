-- One row: average answered call duration in seconds over the chosen days and cafes.
-- Each day's average weighs by its answered calls, never a plain average of the daily averages.
select
    round(
        sum(c.average_duration * c.answered_calls)::numeric
        / nullif(sum(c.answered_calls) filter (where c.average_duration is not null), 0)
    ) as average_duration_seconds
from analytics.call_metrics as c
where
    true
    [[and c.cafe_id = cast({{cafe_id}} as uuid)]]
    [[and c.date >= {{date_from}}]]
    [[and c.date <= {{date_to}}]]
