{#
    Customers from the customers export, renamed and typed. A customer who signed up
    after as_of did not exist yet and is dropped; a missing channel reads `unknown`.
    `email_hash` stays in the lake: no mart needs it.
#}
with

source as (

    select * from {{ source('raw', 'customers') }}

),

renamed as (

    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(signup_ts as {{ utc_timestamp_type() }}) as signup_ts,
        coalesce(cast(acquisition_channel as {{ dbt.type_string() }}), 'unknown') as acquisition_channel,
        cast(acquisition_campaign as {{ dbt.type_string() }}) as acquisition_campaign,
        cast(country as {{ dbt.type_string() }}) as country,
        cast(_loaded_at as {{ utc_timestamp_type() }}) as loaded_at

    from source

),

final as (

    select * from renamed
    where signup_ts is null or cast(signup_ts as date) <= {{ as_of_date() }}

)

select * from final
