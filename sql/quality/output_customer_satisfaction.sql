-- Grain: one row per staged customer_satisfaction row of the batch, with the derived values the
-- output suite checks. Replaces: nothing; a read for the gate.

select
    w.cafe_id,
    w.date,
    w.total_reviews,
    w.average_rating,
    w.positive_reviews + w.negative_reviews - w.total_reviews as review_split_excess
from analytics_work.customer_satisfaction as w
where w.batch_id = %(batch_id)s
