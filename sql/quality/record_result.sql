-- Grain: one row per business date, run, table and rule of the gate. Replaces: the same run's
-- row for that rule, so a retried validation records its latest answer once.

insert into analytics.data_quality_results (
    business_date, run_id, table_name, rule, rows_checked, rows_failed, example_ids, threshold,
    outcome
)
values (
    %(business_date)s, %(run_id)s, %(table_name)s, %(rule)s, %(rows_checked)s, %(rows_failed)s,
    %(example_ids)s, %(threshold)s, %(outcome)s
)
on conflict (business_date, run_id, table_name, rule) do update set
    rows_checked = excluded.rows_checked,
    rows_failed = excluded.rows_failed,
    example_ids = excluded.example_ids,
    threshold = excluded.threshold,
    outcome = excluded.outcome,
    checked_at = now(),
    updated_at = now()
