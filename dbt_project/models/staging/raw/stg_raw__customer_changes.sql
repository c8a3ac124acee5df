{#
    Who the raw tables say may have changed, for the daily incremental builds
    (macros/incremental.sql): every raw order and every raw customer record with its key
    (`row_id`: the order id, the customer id), its customer, when it was loaded and the day
    it is dated. Unlike the other staging models
    it keeps rows dated after as_of: a correction that re-dates an order or a signup past
    as_of must still mark its customer as changed, or the customer's old version would stay
    in the incremental models, and its order's old version must leave the `orders` mart.
    Only these columns are exposed, so no data of a later order reaches a model through here.
#}
with

orders as (

    select
        cast(order_id as {{ dbt.type_string() }}) as row_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        'orders' as source_table,
        cast(order_ts as date) as row_date,
        cast(_loaded_at as {{ utc_timestamp_type() }}) as loaded_at

    from {{ source('raw', 'orders') }}

),

customers as (

    select
        cast(customer_id as {{ dbt.type_string() }}) as row_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        'customers' as source_table,
        cast(signup_ts as date) as row_date,
        cast(_loaded_at as {{ utc_timestamp_type() }}) as loaded_at

    from {{ source('raw', 'customers') }}

),

final as (

    select * from orders
    union all
    select * from customers

)

select * from final
