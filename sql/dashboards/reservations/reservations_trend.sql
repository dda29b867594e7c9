-- One row per date: reservations by outcome over the chosen cafes and days.
-- Dated by the day the table is reserved for, in the cafe's local time.
select
    r.date,
    sum(r.confirmed_reservations) as confirmed,
    sum(r.cancelled_reservations) as cancelled,
    sum(r.no_show_reservations) as no_show
from analytics.reservation_analytics as r
where
    true
    [[and r.cafe_id = cast({{cafe_id}} as uuid)]]
    [[and r.date >= {{date_from}}]]
    [[and r.date <= {{date_to}}]]
group by r.date
order by r.date asc
