with

joined as (

    select * from {{ ref('int_acquisition_spend_joined') }}

),

final as (

    select
        month,
        channel as acquisition_channel,
        campaign as acquisition_campaign,
        {{ add_months(1, 'month') }} <= {{ add_days(1, as_of_date()) }} as is_complete_month,
        has_spend_data,
        spend,
        impressions,
        clicks,
        new_customers,
        {{ cac_with_trend(['channel', 'campaign']) }}

    from joined

)

select * from final
