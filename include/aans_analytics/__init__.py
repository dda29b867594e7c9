"""AANS analytics: per-cafe daily analytics of the AANS phone service, orchestrated by Airflow."""
