"""Alerting: rules as data (include/alerts/rules.yaml), state in analytics.alert_events, delivery
through Airflow's notifiers, with deduplication, cooldown and one resolved message per episode."""
