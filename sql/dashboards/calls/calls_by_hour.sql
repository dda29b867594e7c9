-- One row per local hour of day with calls: answered and missed calls, chosen days and cafes.
-- The hour is each cafe's own local hour, so busy hours line up across time zones.
select
    h.hour,
    sum(h.answered_calls) as answered_calls,
    sum(h.missed_calls) as missed_calls
from analytics.call_metrics_hourly as h
where
    true
    [[and h.cafe_id = cast({{cafe_id}} as uuid)]]
    [[and h.date >= {{date_from}}]]
    [[and h.date <= {{date_to}}]]
group by h.hour
order by h.hour asc
