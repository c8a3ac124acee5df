{#
    Every customer known as of as_of: those listed in the customers export plus those
    only seen in orders (contract: such a customer still exists, with channel `unknown`
    and signup = first order). Order history is summarised here once for every mart,
    from the orders mart (the one order-level table; see marts/orders.sql).
#}
with

customers as (

    select * from {{ ref('stg_raw__customers') }}

),

orders as (

    select * from {{ ref('orders') }}

),

order_summary as (

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
        sum(margin) as margin

    from orders
    group by customer_id

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
        {{ days_between('first_order_date', as_of_date()) }} as tenure_days,
        {{ days_between('last_order_date', as_of_date()) }} as recency_days,
        {{ days_between('first_order_date', 'second_order_date') }} as days_to_second_order,
        {{ days_between('cast(signup_ts as date)', 'first_order_date') }} as days_from_signup_to_first_order

    from joined

)

select * from final
