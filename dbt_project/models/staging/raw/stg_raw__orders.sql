{#
    Orders up to and including as_of, renamed and typed. Besides typing, the one rule
    applied here is the as_of cut-off: this is the only model that reads raw orders, so
    the cut-off here guarantees that nothing downstream sees a later order.
#}
with

source as (

    select * from {{ source('raw', 'orders') }}

),

renamed as (

    select
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(order_ts as {{ utc_timestamp_type() }}) as order_ts,
        cast(order_ts as date) as order_date,
        cast(revenue as double) as revenue,
        cast(cost as double) as cost,
        cast(coalesce(refund, 0) as double) as refund,
        cast(_delivery as {{ dbt.type_string() }}) as source_delivery,
        cast(_loaded_at as {{ utc_timestamp_type() }}) as loaded_at

    from source

),

final as (

    select * from renamed
    where order_date <= {{ as_of_date() }}

)

select * from final
