-- One row per business date and table: what its latest run checked, failed and concluded.
-- A re-run adds rows under its own run id; only the newest run of each date and table counts.
with latest_run as (
    select distinct on (q.business_date, q.table_name)
        q.business_date,
        q.table_name,
        q.run_id
    from analytics.data_quality_results as q
    where
        true
        [[and q.business_date >= {{date_from}}]]
        [[and q.business_date <= {{date_to}}]]
        [[and q.table_name = {{table_name}}]]
    order by q.business_date asc, q.table_name asc, q.checked_at desc
)

select
    q.business_date,
    q.table_name,
    count(*) as rules_checked,
    count(*) filter (where q.outcome <> 'passed') as rules_not_passed,
    sum(q.rows_failed) as rows_failed,
    case
        when bool_or(q.outcome = 'refused') then 'refused'
        when bool_or(q.outcome = 'warning') then 'warning'
        else 'passed'
    end as outcome
from analytics.data_quality_results as q
inner join latest_run as lr
    on
        q.business_date = lr.business_date
        and q.table_name = lr.table_name
        and q.run_id = lr.run_id
group by q.business_date, q.table_name
order by q.business_date desc, q.table_name asc
limit 200
