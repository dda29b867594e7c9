-- One row per sentiment: positive (4-5), neutral (3) and negative (1-2) reviews.
-- Neutral is what remains of the total once positive and negative are taken out.
with totals as (
    select
        coalesce(sum(s.positive_reviews), 0) as positive_reviews,
        coalesce(sum(s.negative_reviews), 0) as negative_reviews,
        coalesce(
            sum(s.total_reviews - s.positive_reviews - s.negative_reviews), 0
        ) as neutral_reviews
    from analytics.customer_satisfaction as s
    where
        true
        [[and s.cafe_id = cast({{cafe_id}} as uuid)]]
        [[and s.date >= {{date_from}}]]
        [[and s.date <= {{date_to}}]]
)

select
    by_sentiment.sentiment,
    by_sentiment.reviews
from totals as t
cross join lateral (
    values
    ('Positive (4-5)', t.positive_reviews),
    ('Neutral (3)', t.neutral_reviews),
    ('Negative (1-2)', t.negative_reviews)
) as by_sentiment (sentiment, reviews)
