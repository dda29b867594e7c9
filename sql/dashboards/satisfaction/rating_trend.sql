-- One row per date with reviews: the day's rating over the chosen cafes and its review count.
-- Weighted by each cafe's review count, so a cafe with one review does not weigh like a busy one.
select
    s.date,
    round(
        sum(s.average_rating * s.total_reviews)
        / nullif(sum(s.total_reviews) filter (where s.average_rating is not null), 0), 2
    ) as average_rating,
    sum(s.total_reviews) as reviews
from analytics.customer_satisfaction as s
where
    true
    [[and s.cafe_id = cast({{cafe_id}} as uuid)]]
    [[and s.date >= {{date_from}}]]
    [[and s.date <= {{date_to}}]]
group by s.date
having sum(s.total_reviews) > 0
order by s.date asc
