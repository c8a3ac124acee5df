with

joined as (

    select * from {{ ref('int_acquisition_spend_joined') }}

),

monthly as (

    select
        month,
        channel as acquisition_channel,
        max(case when has_spend_data then 1 else 0 end) = 1 as has_spend_data,
        sum(spend) as spend,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(new_customers) as new_customers

    from joined
    group by month, channel

),

final as (

    select
        month,
        acquisition_channel,
        {{ monthly_spend_and_cac(['acquisition_channel']) }}

    from monthly

)

select * from final
