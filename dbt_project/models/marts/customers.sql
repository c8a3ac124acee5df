with

customers as (

    select
        *,
        {{ days_between('first_order_date', as_of_date()) }} as tenure_days,
        {{ days_between('last_order_date', as_of_date()) }} as recency_days
    from {{ ref('int_customers_unioned') }}

),

tickets as (

    select * from {{ ref('int_tickets_aggregated_to_customers') }}

),

rfm as (

    select * from {{ ref('customer_rfm') }}

),

final as (

    select
        customers.customer_id,
        {{ as_of_date() }} as as_of,
        customers.is_derived_from_orders,
        customers.is_purchaser,
        customers.signup_ts,
        customers.acquisition_channel,
        customers.acquisition_campaign,
        customers.country,
        customers.cohort_month,
        customers.first_order_ts,
        customers.last_order_ts,
        customers.first_order_date,
        customers.second_order_date,
        customers.last_order_date,
        customers.days_from_signup_to_first_order,
        customers.days_to_second_order,
        customers.tenure_days,
        customers.recency_days,
        customers.orders,
        customers.purchase_days,
        customers.revenue,
        customers.refund,
        customers.net_revenue,
        customers.margin,
        {{ safe_divide('customers.net_revenue', 'customers.orders') }} as average_order_value,
        case
            when customers.is_purchaser
                then customers.orders * {{ days_per_month() }} / greatest(customers.tenure_days + 1, {{ days_per_month() }})
        end as orders_per_month,
        {{ safe_divide('customers.refund', 'customers.revenue') }} as refund_rate,
        coalesce(tickets.tickets, 0) as tickets,
        tickets.mean_csat,
        coalesce(tickets.tickets, 0) * {{ number_var('support_cost_per_ticket') }} as support_cost,
        customers.margin - coalesce(tickets.tickets, 0) * {{ number_var('support_cost_per_ticket') }} as margin_after_support,
        case
            when customers.is_purchaser then customers.recency_days >= {{ ltv_var('churn_days') }}
        end as is_churned,
        rfm.recency_score,
        rfm.frequency_score,
        rfm.monetary_score,
        rfm.rfm_segment

    from customers
    left join tickets
        on customers.customer_id = tickets.customer_id
    left join rfm
        on customers.customer_id = rfm.customer_id

)

select * from final
