{#
    Each purchaser's order history in one row, from the orders mart (the one order-level
    table; see marts/orders.sql). Every customer-level model reads this instead of
    re-aggregating ten million orders, and so do the model features at the score cutoff
    (the purchase-day statistics below; features/customer_features.sql). Incremental on
    DuckDB, keyed by customer (macros/incremental.sql).
#}
{{ config(materialized=customer_incremental_materialization(), unique_key='customer_id', incremental_strategy='delete+insert', meta={'tested_rows': 'changed_customers'}) }}
-- depends_on: {{ ref('stg_raw__customer_changes') }} (the changed customers)

with

orders as (

    select * from {{ ref('orders') }}
    where true {{ only_changed_customers() }}

),

dated as (

    select
        *,
        min(order_date) over (partition by customer_id) as first_purchase_date
    from orders

),

final as (

    select
        customer_id,
        min(order_ts) as first_order_ts,
        max(order_ts) as last_order_ts,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        min(case when order_sequence = 2 then order_date end) as second_order_date,
        min(cohort_month) as cohort_month,
        count(*) as orders,
        -- orders are sequenced by time, so a new purchase day is an order on a later day
        -- than the previous one (cheaper than count(distinct order_date) at scale)
        sum(case when coalesce(days_since_previous_order, 1) > 0 then 1 else 0 end) as purchase_days,
        sum(revenue) as revenue,
        sum(refund) as refund,
        sum(net_revenue) as net_revenue,
        sum(margin) as margin,
        -- Purchase days in the BG/NBD convention (orders on one calendar day are one
        -- purchase): the lifetime half of the model features at the score cutoff.
        sum(case when order_date = first_purchase_date then margin end) as first_day_margin,
        sum(case when order_date = first_purchase_date then net_revenue end) as first_day_net_revenue,
        sum(case when order_date > first_purchase_date then margin end) as repeat_days_margin,
        min(case when order_date > first_purchase_date then order_date end) as second_purchase_date,
        -- the gaps between consecutive purchase days are the non-zero gaps between orders
        sum(case when days_since_previous_order > 0 then days_since_previous_order * days_since_previous_order else 0 end)
            as purchase_gap_days_sum_of_squares,
        sum(case when order_date < {{ add_days(30, 'first_purchase_date') }} then 1 else 0 end) as orders_first_30d

    from dated
    group by customer_id

)

select * from final
