/**
 * DDL of the raw `shop` tables. Tables are created bare (columns, NOT NULL, CHECK), loaded, and only then get their
 * primary keys, foreign keys and indexes: building an index once over loaded rows is much faster than maintaining it
 * row by row. Keep in sync with docs/seed-data.md.
 */

export const CREATE_TABLES = `
create table shop.suppliers (
  supplier_id text not null,
  name text not null,
  country text not null,
  contact_email text
);
create table shop.fabric_lots (
  lot_id text not null,
  supplier_id text not null,
  fabric text not null,
  received_on date not null
);
create table shop.customers (
  customer_id bigint not null,
  email text not null,
  full_name text not null,
  country text not null,
  created_at timestamptz not null
);
create table shop.orders (
  order_id bigint not null,
  customer_id bigint not null,
  ordered_at timestamptz not null,
  channel text not null check (channel in ('web', 'app', 'marketplace')),
  currency text not null,
  status text not null check (status in ('placed', 'shipped', 'delivered', 'cancelled'))
);
create table shop.order_lines (
  order_id bigint not null,
  line_no int not null,
  sku text not null,
  lot_id text not null,
  quantity int not null check (quantity > 0),
  unit_price numeric(10, 2) not null check (unit_price >= 0)
);
create table shop.returns (
  return_id bigint not null,
  order_id bigint not null,
  line_no int not null,
  returned_at timestamptz not null,
  reason_code text check (reason_code in ('too_small', 'too_large', 'defect', 'color', 'changed_mind', 'late')),
  quantity int not null check (quantity > 0)
);
create table shop.defect_events (
  event_id bigint not null,
  lot_id text not null,
  detected_at timestamptz not null,
  defect_type text not null check (defect_type in ('seam', 'stain', 'fade', 'elastic')),
  severity int not null check (severity between 1 and 5)
);
create table shop.crm_leads (
  lead_id bigint not null,
  customer_id bigint,
  email text,
  source text not null,
  created_at timestamptz not null,
  pages_viewed int not null,
  cart_adds int not null
);
create table shop.ad_campaigns (
  campaign_id text not null,
  platform text not null,
  name text not null,
  daily_budget numeric(12, 2) not null,
  active boolean not null
);
create table shop.ad_bids (
  campaign_id text not null,
  keyword text not null,
  day date not null,
  clicks int not null,
  conversions int not null,
  cost numeric(12, 2) not null,
  revenue numeric(12, 2) not null
);
`;

/** Keys and indexes, run after the rows are in. */
export const CREATE_CONSTRAINTS = `
alter table shop.suppliers add primary key (supplier_id);
alter table shop.fabric_lots add primary key (lot_id);
alter table shop.customers add primary key (customer_id);
alter table shop.orders add primary key (order_id);
alter table shop.order_lines add primary key (order_id, line_no);
alter table shop.returns add primary key (return_id);
alter table shop.defect_events add primary key (event_id);
alter table shop.crm_leads add primary key (lead_id);
alter table shop.ad_campaigns add primary key (campaign_id);
alter table shop.ad_bids add primary key (campaign_id, keyword, day);

alter table shop.fabric_lots add foreign key (supplier_id) references shop.suppliers;
alter table shop.orders add foreign key (customer_id) references shop.customers;
alter table shop.order_lines add foreign key (order_id) references shop.orders;
alter table shop.order_lines add foreign key (lot_id) references shop.fabric_lots;
alter table shop.returns add foreign key (order_id, line_no) references shop.order_lines;
alter table shop.defect_events add foreign key (lot_id) references shop.fabric_lots;
alter table shop.crm_leads add foreign key (customer_id) references shop.customers;
alter table shop.ad_bids add foreign key (campaign_id) references shop.ad_campaigns;

create index on shop.orders (ordered_at);
create index on shop.orders (customer_id);
create index on shop.order_lines (lot_id);
create index on shop.returns (order_id, line_no);
create index on shop.defect_events (lot_id);
create index on shop.ad_bids (day);
`;
