-- Grain: one row per source row of {table} that the quality gate checks for the batch: every row
-- of a scope cafe in its local day (valid or not), rows of unknown or unusable cafes in the UTC
-- window, and rows with no {ts} (they belong to no day). Replaces: nothing; a read for the gate.
-- A template: {table}, {ts} and {columns} come from the fixed list in aans_analytics.quality.

with recursive scope as (
    select
        s.cafe_id,
        s.day_start_at,
        s.complete_through
    from analytics_work.scope as s
    where s.batch_id = %(batch_id)s
),

-- Walks the (cafe_id, {ts}) index from one distinct cafe id to the next: a few hundred index
-- probes instead of a scan, to find the cafe ids that are not in scope.
cafe_ids as (
    (
        select t.cafe_id
        from public.{table} as t
        where t.cafe_id is not null
        order by t.cafe_id
        limit 1
    )
    union all
    select (
        select t.cafe_id
        from public.{table} as t
        where t.cafe_id > cafe_ids.cafe_id
        order by t.cafe_id
        limit 1
    )
    from cafe_ids
    where cafe_ids.cafe_id is not null
),

foreign_cafe_ids as (
    select cafe_ids.cafe_id
    from cafe_ids
    where
        cafe_ids.cafe_id is not null
        and cafe_ids.cafe_id not in (select scope.cafe_id from scope)
)

select
    t.*,
    true as is_cafe_known
from scope
cross join lateral (
    select {columns}
    from public.{table} as t
    where
        t.cafe_id = scope.cafe_id
        and t.{ts} >= scope.day_start_at
        and t.{ts} < scope.complete_through
) as t

union all

-- Limitation: a row of an unknown cafe has no time zone to date it by, so it is looked for in
-- the window's UTC bounds (the business date's UTC day); the gate of a neighbouring date may see
-- it instead. It never counts in an aggregate either way.
select
    {columns},
    false as is_cafe_known
from foreign_cafe_ids as f
inner join public.{table} as t
    on f.cafe_id = t.cafe_id
where t.{ts} >= %(window_start)s and t.{ts} < %(window_end)s

union all

select
    {columns},
    null as is_cafe_known
from public.{table} as t
where t.cafe_id is null and t.{ts} >= %(window_start)s and t.{ts} < %(window_end)s

union all

-- Undated rows: reported on every run as a warning, since no day can own them.
select
    {columns},
    t.cafe_id in (select scope.cafe_id from scope) as is_cafe_known
from public.{table} as t
where t.{ts} is null
