with

joined as (

    select * from {{ ref('int_acquisition_spend_joined') }}

),

final as (

    select
        month,
        channel as acquisition_channel,
        campaign as acquisition_campaign,
        {{ monthly_spend_and_cac(['channel', 'campaign']) }}

    from joined

)

select * from final
