-- Grain: analytics_work.customer_satisfaction, one row per cafe day of the batch's scope.
-- Replaces: nothing; the run clears the batch first.

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

valid_reviews as (
    select
        scope.cafe_id,
        scope.date,
        r.rating
    from scope
    cross join lateral (
        select r.rating
        from public.reviews as r
        where
            r.cafe_id = scope.cafe_id
            and r.created_at >= scope.day_start_at
            and r.created_at < scope.complete_through
            and r.id is not null
            and r.rating between 1 and 5
    ) as r
),

inserted as (
    insert into analytics_work.customer_satisfaction (
        batch_id, cafe_id, date, total_reviews, average_rating, positive_reviews,
        negative_reviews, is_final, complete_through
    )
    select
        %(batch_id)s as batch_id,
        scope.cafe_id,
        scope.date,
        count(vr.rating) as total_reviews,
        round(avg(vr.rating), 2) as average_rating,
        count(vr.rating) filter (where vr.rating >= 4) as positive_reviews,
        count(vr.rating) filter (where vr.rating <= 2) as negative_reviews,
        scope.is_final,
        scope.complete_through
    from scope
    left join valid_reviews as vr
        on scope.cafe_id = vr.cafe_id and scope.date = vr.date
    group by scope.cafe_id, scope.date, scope.is_final, scope.complete_through
    returning 1
)

select count(*) as review_rows from inserted
