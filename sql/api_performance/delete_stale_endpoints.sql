-- Grain: one UTC hour of analytics.api_performance.
-- Deletes the hour's endpoints the new aggregation no longer reports, so that a re-run replaces
-- the hour; runs in the same transaction as upsert_hour.
delete from analytics.api_performance
where
    hour = %(hour)s
    and not (endpoint = any(%(endpoints)s::text[]))
