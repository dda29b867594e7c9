-- One row per UTC hour: share of requests answered with status 500 or above, 0 to 1.
-- Weighted: errors over requests summed across endpoints, never an average of rates.
with last_hour as (
    select max(p.hour) as newest_hour
    from analytics.api_performance as p
)

select
    p.hour,
    round(sum(p.errors)::numeric / nullif(sum(p.requests), 0), 4) as error_rate
from analytics.api_performance as p
cross join last_hour as lh
where
    p.hour >= coalesce([[cast({{date_from}} as timestamptz),]] lh.newest_hour - interval '7 days')
    [[and p.hour < cast({{date_to}} as timestamptz) + interval '1 day']]
    [[and p.endpoint = {{endpoint}}]]
group by p.hour
order by p.hour asc
