"""Metabase dashboards as code: definitions, an idempotent sync, and a static picture of them.

The dashboards live in `include/dashboards/` (one YAML file each) with their card SQL in
`sql/dashboards/<dashboard>/<card>.sql`; `sync.sync` makes a Metabase instance match them and
`render.render_dashboards` draws them from the warehouse without any Metabase at all.
"""
