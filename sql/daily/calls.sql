-- Grain: analytics_work.call_metrics, one row per cafe day of the batch's scope; and
-- analytics_work.call_metrics_hourly, one row per cafe day and local hour with calls. Replaces:
-- nothing; the run clears the batch first. One statement reads each cafe day's calls once.

with scope as (
    select
        s.cafe_id,
        s.date,
        s.timezone,
        s.day_start_at,
        s.complete_through,
        s.is_final
    from analytics_work.scope as s
    where s.batch_id = %(batch_id)s
),

-- Per-cafe bounds through the (cafe_id, started_at) index, as for orders.
valid_calls as (
    select
        scope.cafe_id,
        scope.date,
        c.status,
        c.duration_seconds,
        -- The local hour, in the cafe's own zone: across DST a day has 23 or 25 hours.
        extract(hour from c.started_at at time zone scope.timezone)::smallint as hour
    from scope
    cross join lateral (
        select
            c.started_at,
            c.status,
            c.duration_seconds
        from public.calls as c
        where
            c.cafe_id = scope.cafe_id
            and c.started_at >= scope.day_start_at
            and c.started_at < scope.complete_through
            and c.id is not null
            and c.status in ('answered', 'missed')
            and (c.duration_seconds is null or c.duration_seconds >= 0)
    ) as c
),

hourly as (
    select
        cafe_id,
        date,
        hour,
        count(*) as total_calls,
        count(*) filter (where status = 'answered') as answered_calls,
        count(*) filter (where status = 'missed') as missed_calls
    from valid_calls
    group by cafe_id, date, hour
),

-- The busiest local hour; on a tie the earliest.
peak_hours as (
    select distinct on (cafe_id, date)
        cafe_id,
        date,
        hour as peak_hour
    from hourly
    order by cafe_id asc, date asc, total_calls desc, hour asc
),

daily as (
    select
        scope.cafe_id,
        scope.date,
        scope.is_final,
        scope.complete_through,
        count(vc.status) as total_calls,
        count(vc.status) filter (where vc.status = 'answered') as answered_calls,
        count(vc.status) filter (where vc.status = 'missed') as missed_calls,
        -- An answered call without a duration counts as a call, not in the average.
        round(avg(vc.duration_seconds) filter (where vc.status = 'answered'))::integer
            as average_duration
    from scope
    left join valid_calls as vc
        on scope.cafe_id = vc.cafe_id and scope.date = vc.date
    group by scope.cafe_id, scope.date, scope.is_final, scope.complete_through
),

inserted_daily as (
    insert into analytics_work.call_metrics (
        batch_id, cafe_id, date, total_calls, answered_calls, missed_calls,
        average_duration, peak_hour, is_final, complete_through
    )
    select
        %(batch_id)s as batch_id,
        daily.cafe_id,
        daily.date,
        daily.total_calls,
        daily.answered_calls,
        daily.missed_calls,
        daily.average_duration,
        ph.peak_hour,
        daily.is_final,
        daily.complete_through
    from daily
    left join peak_hours as ph
        on daily.cafe_id = ph.cafe_id and daily.date = ph.date
    returning 1
),

inserted_hourly as (
    insert into analytics_work.call_metrics_hourly (
        batch_id, cafe_id, date, hour, total_calls, answered_calls, missed_calls,
        is_final, complete_through
    )
    select
        %(batch_id)s as batch_id,
        hourly.cafe_id,
        hourly.date,
        hourly.hour,
        hourly.total_calls,
        hourly.answered_calls,
        hourly.missed_calls,
        scope.is_final,
        scope.complete_through
    from hourly
    inner join scope
        on hourly.cafe_id = scope.cafe_id and hourly.date = scope.date
    returning 1
)

select
    (select count(*) from inserted_daily) as daily_rows,
    (select count(*) from inserted_hourly) as hourly_rows
