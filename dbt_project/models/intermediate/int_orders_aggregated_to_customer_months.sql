{#
    Order activity per customer and calendar month, with the customer's cohort and channel.
    Incremental on DuckDB, keyed by customer (macros/incremental.sql).
#}
{{ config(materialized=customer_incremental_materialization(), unique_key='customer_id', incremental_strategy='delete+insert', meta={'tested_rows': 'changed_customers'}) }}
-- depends_on: {{ ref('stg_raw__customer_changes') }} (the changed customers)

with

orders as (

    select * from {{ ref('orders') }}
    where true {{ only_changed_customers() }}

),

final as (

    select
        customer_id,
        order_month,
        -- the same for every order of a customer (month): aggregated, not grouped by,
        -- which keeps the group key small over millions of orders
        min(cohort_month) as cohort_month,
        min(acquisition_channel) as acquisition_channel,
        min(months_since_acquisition) as months_since_acquisition,
        count(*) as orders,
        sum(net_revenue) as net_revenue,
        sum(margin) as margin

    from orders
    group by customer_id, order_month

)

select * from final
