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
        {{ add_months(1, 'month') }} <= {{ add_days(1, as_of_date()) }} as is_complete_month,
        has_spend_data,
        spend,
        impressions,
        clicks,
        new_customers,
        {{ cac_with_trend(['acquisition_channel']) }}

    from monthly

)

select * from final
