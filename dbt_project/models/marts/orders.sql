{#
    The one order-level table of the warehouse. Models that need order detail (customer
    summaries, monthly activity, lifecycle events) read this mart rather than an
    intermediate copy: at a million customers it is ten million rows, and writing them
    twice would cost more build time than every other model together.

    Incremental on DuckDB, keyed by customer: a daily build recomputes the orders of the
    customers whose history changed (macros/incremental.sql), since a new order moves the
    neighbours of the customer's earlier orders (next-order gap, sequence).

    Their orders are read in three disjoint parts: from staging, the rows loaded since the
    last build (new orders, corrections) and the older rows dated after its as_of (now
    inside the window); from this table, the rest, as the last build left them (a row dated
    on or before that as_of and not loaded since is unchanged in the raw table). The
    staging parts filter on plain columns against constants, which DuckDB answers from the
    Parquet row-group statistics; looking the changed customers up among all raw orders
    instead means a join over every raw order's customer id, several times the cost.
#}
{{ config(materialized=customer_incremental_materialization(), unique_key='customer_id', incremental_strategy='delete+insert', meta={'tested_rows': 'changed_customers'}) }}
-- depends_on: {{ ref('stg_raw__customer_changes') }} (the changed customers)

with

{%- set order_columns = 'order_id, customer_id, order_ts, order_date, revenue, refund, cost' %}

orders as (

    {%- if incremental_window_known() %}

    select {{ order_columns }}
    from {{ this }}
    where order_date <= {{ previous_as_of() }}
        {{ only_changed_customers() }}
        and order_id not in (
            select row_id from {{ ref('stg_raw__customer_changes') }}
            where source_table = 'orders' and loaded_at > {{ changed_since() }}
        )

    union all

    select {{ order_columns }} from {{ ref('stg_raw__orders') }}
    where loaded_at > {{ changed_since() }}

    union all

    select {{ order_columns }} from {{ ref('stg_raw__orders') }}
    where order_ts >= cast({{ add_days(1, previous_as_of()) }} as {{ utc_timestamp_type() }})
        and loaded_at <= {{ changed_since() }}

    {%- else %}

    select {{ order_columns }} from {{ ref('stg_raw__orders') }}

    {%- endif %}

),

customers as (

    select * from {{ ref('stg_raw__customers') }}

),

valued as (

    select
        order_id,
        customer_id,
        order_ts,
        order_date,
        {{ month_of('order_date') }} as order_month,
        revenue,
        refund,
        cost,
        {{ net_revenue('revenue', 'refund') }} as net_revenue,
        {{ margin('revenue', 'refund', 'cost') }} as margin,
        cost is null as is_margin_from_rate

    from orders

),

sequenced as (

    select
        *,
        row_number() over (
            partition by customer_id order by order_ts, order_id
        ) as order_sequence,
        lag(order_date) over (
            partition by customer_id order by order_ts, order_id
        ) as previous_order_date,
        lead(order_date) over (
            partition by customer_id order by order_ts, order_id
        ) as next_order_date,
        min(order_month) over (partition by customer_id) as cohort_month

    from valued

),

final as (

    select
        sequenced.order_id,
        sequenced.customer_id,
        sequenced.order_ts,
        sequenced.order_date,
        sequenced.order_month,
        sequenced.revenue,
        sequenced.refund,
        sequenced.cost,
        sequenced.net_revenue,
        sequenced.margin,
        sequenced.is_margin_from_rate,
        sequenced.order_sequence,
        sequenced.order_sequence = 1 as is_first_order,
        {{ days_between('sequenced.previous_order_date', 'sequenced.order_date') }} as days_since_previous_order,
        {{ days_between('sequenced.order_date', 'sequenced.next_order_date') }} as days_to_next_order,
        coalesce(customers.acquisition_channel, 'unknown') as acquisition_channel,
        customers.acquisition_campaign,
        sequenced.cohort_month,
        {{ months_between('sequenced.cohort_month', 'sequenced.order_month') }} as months_since_acquisition

    from sequenced
    left join customers
        on sequenced.customer_id = customers.customer_id

)

select * from final
