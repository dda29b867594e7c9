-- Grain: analytics_work.reservation_analytics, one row per cafe day of the batch's scope, dated
-- by the local date the table is reserved for. Replaces: nothing; the run clears the batch first.

with scope as (
    select
        s.cafe_id,
        s.date,
        s.day_start_at,
        s.complete_through,
        s.is_final
    from analytics_work.scope as s
    where s.batch_id = %(batch_id)s
),

valid_reservations as (
    select
        scope.cafe_id,
        scope.date,
        r.status,
        r.party_size
    from scope
    cross join lateral (
        select
            r.status,
            r.party_size
        from public.reservations as r
        where
            r.cafe_id = scope.cafe_id
            and r.reserved_for >= scope.day_start_at
            and r.reserved_for < scope.complete_through
            and r.id is not null
            and r.created_at is not null
            and r.status in ('pending', 'confirmed', 'completed', 'cancelled', 'no_show')
            and r.party_size >= 1
    ) as r
),

inserted as (
    insert into analytics_work.reservation_analytics (
        batch_id, cafe_id, date, total_reservations, confirmed_reservations,
        cancelled_reservations, no_show_reservations, average_party_size,
        is_final, complete_through
    )
    select
        %(batch_id)s as batch_id,
        scope.cafe_id,
        scope.date,
        count(vr.status) as total_reservations,
        count(vr.status) filter (
            where vr.status in ('confirmed', 'completed')
        ) as confirmed_reservations,
        count(vr.status) filter (where vr.status = 'cancelled') as cancelled_reservations,
        count(vr.status) filter (where vr.status = 'no_show') as no_show_reservations,
        round(avg(vr.party_size) filter (where vr.status <> 'cancelled'), 2) as average_party_size,
        scope.is_final,
        scope.complete_through
    from scope
    left join valid_reservations as vr
        on scope.cafe_id = vr.cafe_id and scope.date = vr.date
    group by scope.cafe_id, scope.date, scope.is_final, scope.complete_through
    returning 1
)

select count(*) as reservation_rows from inserted
