-- One row: average review rating over the chosen days and cafes, 1 to 5 (NULL without reviews).
-- Weighted by each day's review count, never an average of the daily averages.
select
    round(
        sum(s.average_rating * s.total_reviews)
        / nullif(sum(s.total_reviews) filter (where s.average_rating is not null), 0), 2
    ) as average_rating
from analytics.customer_satisfaction as s
where
    true
    [[and s.cafe_id = cast({{cafe_id}} as uuid)]]
    [[and s.date >= {{date_from}}]]
    [[and s.date <= {{date_to}}]]
