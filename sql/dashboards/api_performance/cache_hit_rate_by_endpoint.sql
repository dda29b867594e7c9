-- One row per endpoint that touches the cache: its cache hit rate, 0 to 1, busiest first.
-- Weighted by requests per hour, never a plain average of the hourly rates.
with last_hour as (
    select max(p.hour) as newest_hour
    from analytics.api_performance as p
)

select
    p.endpoint,
    round(
        (
            sum(p.cache_hit_rate * p.requests)
            / nullif(sum(p.requests) filter (where p.cache_hit_rate is not null), 0)
        )::numeric,
        4
    ) as cache_hit_rate
from analytics.api_performance as p
cross join last_hour as lh
where
    p.hour >= coalesce([[cast({{date_from}} as timestamptz),]] lh.newest_hour - interval '7 days')
    and p.cache_hit_rate is not null
    [[and p.hour < cast({{date_to}} as timestamptz) + interval '1 day']]
    [[and p.endpoint = {{endpoint}}]]
group by p.endpoint
order by sum(p.requests) desc, p.endpoint asc
limit 15
