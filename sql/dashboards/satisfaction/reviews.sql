-- One row: reviews received over the chosen days and cafes.
-- Replaces the original design's count over the raw reviews table.
select coalesce(sum(s.total_reviews), 0) as reviews
from analytics.customer_satisfaction as s
where
    true
    [[and s.cafe_id = cast({{cafe_id}} as uuid)]]
    [[and s.date >= {{date_from}}]]
    [[and s.date <= {{date_to}}]]
