{#
    The events that move a customer in or out of the active base, under the marts' churn
    definition: a customer has churned once `churn_days` days (var) pass with no order.

      acquired     the first order                                          (+1)
      churned      churn_days after an order not followed by another order within
                   churn_days, when that day is on or before as_of           (-1)
      reactivated  an order placed more than churn_days after the previous one (+1)

    Summing `active_delta` up to a day gives the customers active on that day.

    Incremental on DuckDB, keyed by customer (macros/incremental.sql); a churn event that
    enters the as_of window makes its customer one to recompute.
#}
{{ config(materialized=customer_incremental_materialization(), unique_key='customer_id', incremental_strategy='delete+insert') }}
-- depends_on: {{ ref('stg_raw__customer_changes') }} (the changed customers)

with

orders as (

    select * from {{ ref('orders') }}
    where true {{ only_changed_customers(churn_shift_days=ltv_var('churn_days')) }}

),

acquired as (

    select customer_id, order_date as event_date, 'acquired' as event_type, 1 as active_delta
    from orders
    where order_sequence = 1

),

churned as (

    select
        customer_id,
        {{ add_days(ltv_var('churn_days'), 'order_date') }} as event_date,
        'churned' as event_type,
        -1 as active_delta

    from orders
    where
        (days_to_next_order is null and {{ add_days(ltv_var('churn_days'), 'order_date') }} <= {{ as_of_date() }})
        or days_to_next_order > {{ ltv_var('churn_days') }}

),

reactivated as (

    select customer_id, order_date as event_date, 'reactivated' as event_type, 1 as active_delta
    from orders
    where days_since_previous_order > {{ ltv_var('churn_days') }}

),

final as (

    select * from acquired
    union all
    select * from churned
    union all
    select * from reactivated

)

select * from final
