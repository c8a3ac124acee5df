{{ config(meta={'dagster': {'ref': {'name': 'channel_cac_monthly'}}}) }}

-- Accounting identity: marketing spend is neither lost nor double counted between the
-- spend records up to as_of and the CAC marts (channel and campaign level).
with

spend as (

    select coalesce(sum(spend), 0) as spend from {{ ref('stg_raw__marketing_spend') }}

),

channel_level as (

    select coalesce(sum(spend), 0) as spend from {{ ref('channel_cac_monthly') }}

),

campaign_level as (

    select coalesce(sum(spend), 0) as spend from {{ ref('campaign_cac_monthly') }}

)

select
    spend.spend as spend_records,
    channel_level.spend as channel_mart,
    campaign_level.spend as campaign_mart

from spend
cross join channel_level
cross join campaign_level
where abs(spend.spend - channel_level.spend) > 1e-6 * greatest(1, abs(spend.spend))
    or abs(spend.spend - campaign_level.spend) > 1e-6 * greatest(1, abs(spend.spend))
