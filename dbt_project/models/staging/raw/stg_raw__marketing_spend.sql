{# Marketing spend per day, channel and campaign, up to and including as_of. #}
with

source as (

    select * from {{ source('raw', 'marketing_spend') }}

),

renamed as (

    select
        cast(spend_date as date) as spend_date,
        coalesce(cast(channel as {{ dbt.type_string() }}), 'unknown') as channel,
        cast(campaign as {{ dbt.type_string() }}) as campaign,
        cast(spend as double) as spend,
        cast(impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(clicks as {{ dbt.type_bigint() }}) as clicks

    from source

),

final as (

    select * from renamed
    where spend_date <= {{ as_of_date() }}

)

select * from final
