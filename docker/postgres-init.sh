#!/usr/bin/env bash
# First start of the compose PostgreSQL: one database per consumer, each with its own login.
#   aans      the AANS app tables (schema public) and the analytics tables (schema analytics)
#   airflow   Airflow's metadata
#   metabase  Metabase's application data
# The passwords come from the environment (.env); nothing secret is written in this file.
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v aans_pw="$AANS_DB_PASSWORD" -v airflow_pw="$AIRFLOW_DB_PASSWORD" \
  -v metabase_pw="$METABASE_DB_PASSWORD" <<'SQL'
create role aans login password :'aans_pw';
create role airflow login password :'airflow_pw';
create role metabase login password :'metabase_pw';
create database aans owner aans;
create database airflow owner airflow;
create database metabase owner metabase;
SQL
