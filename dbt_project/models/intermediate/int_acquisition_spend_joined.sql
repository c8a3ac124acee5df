{#
    Marketing spend and newly acquired customers side by side, per calendar month x
    acquisition channel x campaign, on a gap-free month grid from the pair's first month
    to as_of's month (so trends compare consecutive months).

    A customer is acquired in the month of their first order. Campaigns are matched on
    their exact name; no campaign on either side reads `(none)`.
    `spend` is null (not 0) for a channel that has no spend record at all up to as_of
    (for example `unknown`, or every channel when no marketing_spend was delivered).
#}
with

spend as (

    select * from {{ ref('stg_raw__marketing_spend') }}

),

customers as (

    select * from {{ ref('int_customers_unioned') }}

),

spend_monthly as (

    select
        {{ month_of('spend_date') }} as month,
        channel,
        coalesce(campaign, '(none)') as campaign,
        sum(spend) as spend,
        sum(impressions) as impressions,
        sum(clicks) as clicks

    from spend
    group by 1, 2, 3

),

acquisitions_monthly as (

    select
        cohort_month as month,
        acquisition_channel as channel,
        coalesce(acquisition_campaign, '(none)') as campaign,
        count(*) as new_customers

    from customers
    where is_purchaser
    group by 1, 2, 3

),

channels_with_spend as (

    select distinct channel from spend

),

pairs as (

    select channel, campaign, min(month) as first_month
    from (
        select channel, campaign, month from spend_monthly
        union all
        select channel, campaign, month from acquisitions_monthly
    ) as activity
    group by channel, campaign

),

month_offsets as (

    {{ month_offsets() }}

),

grid as (

    select
        pairs.channel,
        pairs.campaign,
        {{ add_months('month_offsets.month_offset', 'pairs.first_month') }} as month

    from pairs
    cross join month_offsets
    where month_offsets.month_offset <= {{ months_between('pairs.first_month', as_of_month()) }}

),

final as (

    select
        grid.month,
        grid.channel,
        grid.campaign,
        channels_with_spend.channel is not null as has_spend_data,
        case
            when channels_with_spend.channel is not null then coalesce(spend_monthly.spend, 0)
        end as spend,
        spend_monthly.impressions,
        spend_monthly.clicks,
        coalesce(acquisitions_monthly.new_customers, 0) as new_customers

    from grid
    left join channels_with_spend
        on grid.channel = channels_with_spend.channel
    left join spend_monthly
        on grid.month = spend_monthly.month
        and grid.channel = spend_monthly.channel
        and grid.campaign = spend_monthly.campaign
    left join acquisitions_monthly
        on grid.month = acquisitions_monthly.month
        and grid.channel = acquisitions_monthly.channel
        and grid.campaign = acquisitions_monthly.campaign

)

select * from final
