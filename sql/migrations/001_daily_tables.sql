-- The per-cafe daily analytics tables of DESIGN section 5, with the provisional marks of the
-- intraday refresh (is_final, complete_through), and the work tables a run stages its day in.
-- Replaces nothing: the first migration.

create table analytics.order_analytics (
    cafe_id uuid not null,
    date date not null,
    total_orders integer not null,
    total_revenue numeric(14, 2) not null,
    average_order_value numeric(12, 2),
    delivery_orders integer not null,
    dine_in_orders integer not null,
    takeaway_orders integer not null,
    cancelled_orders integer not null,
    is_final boolean not null,
    complete_through timestamptz not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (cafe_id, date)
);

create table analytics.call_metrics (
    cafe_id uuid not null,
    date date not null,
    total_calls integer not null,
    answered_calls integer not null,
    missed_calls integer not null,
    average_duration integer,
    peak_hour smallint,
    is_final boolean not null,
    complete_through timestamptz not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (cafe_id, date)
);

create table analytics.call_metrics_hourly (
    cafe_id uuid not null,
    date date not null,
    hour smallint not null,
    total_calls integer not null,
    answered_calls integer not null,
    missed_calls integer not null,
    is_final boolean not null,
    complete_through timestamptz not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (cafe_id, date, hour)
);

create table analytics.customer_satisfaction (
    cafe_id uuid not null,
    date date not null,
    total_reviews integer not null,
    average_rating numeric(3, 2),
    positive_reviews integer not null,
    negative_reviews integer not null,
    is_final boolean not null,
    complete_through timestamptz not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (cafe_id, date)
);

create table analytics.reservation_analytics (
    cafe_id uuid not null,
    date date not null,
    total_reservations integer not null,
    confirmed_reservations integer not null,
    cancelled_reservations integer not null,
    no_show_reservations integer not null,
    average_party_size numeric(10, 2),
    is_final boolean not null,
    complete_through timestamptz not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (cafe_id, date)
);

create table analytics.menu_item_sales (
    cafe_id uuid not null,
    date date not null,
    item_name text not null,
    quantity_sold bigint not null,
    revenue numeric(14, 2) not null,
    order_count integer not null,
    is_final boolean not null,
    complete_through timestamptz not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (cafe_id, date, item_name)
);

-- Dashboards filter by date across all cafes; the primary keys lead with the cafe.
create index order_analytics_date_idx on analytics.order_analytics (date);
create index call_metrics_date_idx on analytics.call_metrics (date);
create index call_metrics_hourly_date_idx on analytics.call_metrics_hourly (date);
create index customer_satisfaction_date_idx on analytics.customer_satisfaction (date);
create index reservation_analytics_date_idx on analytics.reservation_analytics (date);
create index menu_item_sales_date_idx on analytics.menu_item_sales (date);

-- What one run audits and publishes: the cafe days it covers, with each day's exact UTC bounds.
-- Unlogged: a crash loses only work that the retry redoes.
create schema analytics_work;

create unlogged table analytics_work.scope (
    batch_id text not null,
    cafe_id uuid not null,
    date date not null,
    timezone text not null,
    day_start_at timestamptz not null,
    day_end_at timestamptz not null,
    complete_through timestamptz not null,
    is_final boolean not null,
    -- Set at publish time: a provisional batch never overwrites a day already sealed.
    is_skipped boolean not null default false,
    created_at timestamptz not null default now(),
    primary key (batch_id, cafe_id, date)
);

-- A run's aggregated day waits here, keyed by batch, until the audit passes and it is published.
create unlogged table analytics_work.order_analytics (
    batch_id text not null,
    like analytics.order_analytics including defaults
);

create unlogged table analytics_work.call_metrics (
    batch_id text not null,
    like analytics.call_metrics including defaults
);

create unlogged table analytics_work.call_metrics_hourly (
    batch_id text not null,
    like analytics.call_metrics_hourly including defaults
);

create unlogged table analytics_work.customer_satisfaction (
    batch_id text not null,
    like analytics.customer_satisfaction including defaults
);

create unlogged table analytics_work.reservation_analytics (
    batch_id text not null,
    like analytics.reservation_analytics including defaults
);

create unlogged table analytics_work.menu_item_sales (
    batch_id text not null,
    like analytics.menu_item_sales including defaults
);

-- Publishing matches staged and published rows by batch and key: index both ways.
create index order_analytics_batch_idx on analytics_work.order_analytics (batch_id, cafe_id, date);
create index call_metrics_batch_idx on analytics_work.call_metrics (batch_id, cafe_id, date);
create index call_metrics_hourly_batch_idx
on analytics_work.call_metrics_hourly (batch_id, cafe_id, date, hour);
create index customer_satisfaction_batch_idx
on analytics_work.customer_satisfaction (batch_id, cafe_id, date);
create index reservation_analytics_batch_idx
on analytics_work.reservation_analytics (batch_id, cafe_id, date);
create index menu_item_sales_batch_idx
on analytics_work.menu_item_sales (batch_id, cafe_id, date, item_name);
