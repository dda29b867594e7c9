"""Elasticsearch side of AANS analytics: API request-log metrics and task-log shipping."""
