{#
    Every customer known as of as_of: those listed in the customers export plus those
    only seen in orders (contract: such a customer still exists, with channel `unknown`
    and signup = first order).
    Their order history comes summarised per customer from int_orders_aggregated_to_customers.
    Nothing here counts days up to as_of (tenure, recency: the marts reading this do), so a
    customer's row changes only when their records or orders do, and a daily build
    recomputes the changed customers only: incremental on DuckDB, keyed by customer
    (macros/incremental.sql).
#}
{{ config(materialized=customer_incremental_materialization(), unique_key='customer_id', incremental_strategy='delete+insert', meta={'tested_rows': 'changed_customers'}) }}
-- depends_on: {{ ref('stg_raw__customer_changes') }} (the changed customers)

with

customers as (

    select * from {{ ref('stg_raw__customers') }}
    where true {{ only_changed_customers() }}

),

order_summary as (

    select * from {{ ref('int_orders_aggregated_to_customers') }}
    where true {{ only_changed_customers() }}

),

customer_ids as (

    select customer_id from customers
    union
    select customer_id from order_summary

),

joined as (

    select
        customer_ids.customer_id,
        customers.customer_id is null as is_derived_from_orders,
        coalesce(customers.signup_ts, order_summary.first_order_ts) as signup_ts,
        coalesce(customers.acquisition_channel, 'unknown') as acquisition_channel,
        customers.acquisition_campaign,
        customers.country,
        order_summary.first_order_ts,
        order_summary.last_order_ts,
        order_summary.first_order_date,
        order_summary.last_order_date,
        order_summary.second_order_date,
        order_summary.cohort_month,
        coalesce(order_summary.orders, 0) as orders,
        coalesce(order_summary.purchase_days, 0) as purchase_days,
        coalesce(order_summary.revenue, 0) as revenue,
        coalesce(order_summary.refund, 0) as refund,
        coalesce(order_summary.net_revenue, 0) as net_revenue,
        coalesce(order_summary.margin, 0) as margin

    from customer_ids
    left join customers
        on customer_ids.customer_id = customers.customer_id
    left join order_summary
        on customer_ids.customer_id = order_summary.customer_id

),

final as (

    select
        *,
        first_order_date is not null as is_purchaser,
        {{ days_between('first_order_date', 'second_order_date') }} as days_to_second_order,
        {{ days_between('cast(signup_ts as date)', 'first_order_date') }} as days_from_signup_to_first_order

    from joined

)

select * from final
