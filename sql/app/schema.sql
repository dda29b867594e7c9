-- The AANS app's source tables as the demo tenant and the tests create them (DESIGN section 4).
-- Like the app, it enforces none of our rules: no foreign keys, checks or unique ids, so tests can
-- reproduce anything a production database may hold. The indexes are the ones the daily SQL needs.

create table if not exists cafes (
    id uuid,
    name text,
    timezone text,
    created_at timestamptz
);

create table if not exists orders (
    id uuid,
    cafe_id uuid,
    created_at timestamptz,
    delivery_type text,
    status text,
    total_amount numeric(10, 2)
);

create table if not exists order_items (
    id bigint,
    order_id uuid,
    item_name text,
    quantity int,
    unit_price numeric(10, 2)
);

create table if not exists calls (
    id uuid,
    cafe_id uuid,
    started_at timestamptz,
    status text,
    duration_seconds int,
    caller_phone text
);

create table if not exists reviews (
    id uuid,
    cafe_id uuid,
    created_at timestamptz,
    rating smallint,
    comment text
);

create table if not exists reservations (
    id uuid,
    cafe_id uuid,
    created_at timestamptz,
    reserved_for timestamptz,
    party_size int,
    status text
);

-- One local day of one cafe is a range of this index; the included columns let the day's
-- aggregation read the index alone (an index-only scan once the table is vacuumed).
create index if not exists orders_cafe_created_idx
on orders (cafe_id, created_at) include (id, status, delivery_type, total_amount);

create index if not exists order_items_order_idx
on order_items (order_id) include (id, item_name, quantity, unit_price);

create index if not exists calls_cafe_started_idx
on calls (cafe_id, started_at) include (id, status, duration_seconds);

create index if not exists reviews_cafe_created_idx
on reviews (cafe_id, created_at) include (id, rating);

create index if not exists reservations_cafe_reserved_idx
on reservations (cafe_id, reserved_for) include (id, party_size, status, created_at);

-- Stand-ins for the app's primary keys, which the quality gate's orphan check probes.
create index if not exists orders_id_idx on orders (id);
create index if not exists order_items_id_idx on order_items (id);
