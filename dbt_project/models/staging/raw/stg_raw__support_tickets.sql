{#
    Support tickets opened up to and including as_of. A resolution after as_of was not
    known yet: its time and CSAT read null.
#}
with

source as (

    select * from {{ source('raw', 'support_tickets') }}

),

renamed as (

    select
        cast(ticket_id as {{ dbt.type_string() }}) as ticket_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(created_ts as {{ utc_timestamp_type() }}) as created_ts,
        cast(category as {{ dbt.type_string() }}) as category,
        cast(resolved_ts as {{ utc_timestamp_type() }}) as resolved_ts,
        cast(csat as {{ dbt.type_int() }}) as csat

    from source

),

final as (

    select
        ticket_id,
        customer_id,
        created_ts,
        category,
        case
            when cast(resolved_ts as date) <= {{ as_of_date() }} then resolved_ts
        end as resolved_ts,
        case
            when resolved_ts is null or cast(resolved_ts as date) <= {{ as_of_date() }} then csat
        end as csat

    from renamed
    where cast(created_ts as date) <= {{ as_of_date() }}

)

select * from final
