{{ config(meta={'dagster': {'ref': {'name': 'retention_churn'}}}) }}

-- Accounting identity: the active base at the end of the retention mart's last month
-- (as_of's month) equals the purchasing customers not churned on as_of, for every
-- breakdown, and each breakdown's values add up to the `all` row in every month.
with

retention as (

    select * from {{ ref('retention_churn') }}

),

not_churned as (

    select count(*) as customers
    from {{ ref('customers') }}
    where is_purchaser and not is_churned

),

per_breakdown_last_month as (

    select breakdown, sum(active_at_end) as active_at_end
    from retention
    where period_month = {{ as_of_month() }}
    group by breakdown

),

base_mismatch as (

    select
        per_breakdown_last_month.breakdown,
        cast(null as date) as period_month,
        per_breakdown_last_month.active_at_end,
        not_churned.customers as expected

    from per_breakdown_last_month
    cross join not_churned
    where per_breakdown_last_month.active_at_end <> not_churned.customers

),

monthly_sums as (

    select
        breakdown,
        period_month,
        sum(active_at_end) as active_at_end,
        sum(churned_customers) as churned_customers

    from retention
    group by breakdown, period_month

),

breakdown_mismatch as (

    select
        parts.breakdown,
        parts.period_month,
        parts.active_at_end,
        whole.active_at_end as expected

    from monthly_sums as parts
    inner join monthly_sums as whole
        on parts.period_month = whole.period_month
        and whole.breakdown = 'all'
    where parts.active_at_end <> whole.active_at_end
        or parts.churned_customers <> whole.churned_customers

)

select * from base_mismatch
union all
select * from breakdown_mismatch
