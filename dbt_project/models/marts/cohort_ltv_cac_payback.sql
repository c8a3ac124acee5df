{#
    Unit economics per acquisition cohort: realised margin per acquired customer after
    3, 6 and 12 months against what it cost to acquire them (CAC of the channel in the
    acquisition month), and the payback period.

    margin_per_customer_<k>m  cumulative margin per customer over the first k months
                              (months since acquisition 0..k-1); null until all k months
                              are complete on as_of.
    payback_months            the first k such that cumulative margin per customer over the
                              first k months >= CAC (1 = paid back in the acquisition month
                              itself); null while not yet paid back or when CAC is unknown.
#}
with

cohorts as (

    select * from {{ ref('cohort_retention') }}

),

cac as (

    select * from {{ ref('channel_cac_monthly') }}

),

per_cohort as (

    select
        cohort_month,
        acquisition_channel,
        max(cohort_size) as cohort_size,
        max(months_since_acquisition) + 1 as months_observed,
        max(case when months_since_acquisition = 2 and is_complete_month then cumulative_margin_per_customer end)
            as margin_per_customer_3m,
        max(case when months_since_acquisition = 5 and is_complete_month then cumulative_margin_per_customer end)
            as margin_per_customer_6m,
        max(case when months_since_acquisition = 11 and is_complete_month then cumulative_margin_per_customer end)
            as margin_per_customer_12m

    from cohorts
    group by cohort_month, acquisition_channel

),

to_date as (

    select
        cohorts.cohort_month,
        cohorts.acquisition_channel,
        cohorts.cumulative_margin_per_customer as margin_per_customer_to_date,
        cohorts.cumulative_net_revenue_per_customer as net_revenue_per_customer_to_date

    from cohorts
    inner join per_cohort
        on cohorts.cohort_month = per_cohort.cohort_month
        and cohorts.acquisition_channel = per_cohort.acquisition_channel
        and cohorts.months_since_acquisition = per_cohort.months_observed - 1

),

payback as (

    select
        cohorts.cohort_month,
        cohorts.acquisition_channel,
        min(cohorts.months_since_acquisition) + 1 as payback_months

    from cohorts
    inner join cac
        on cohorts.cohort_month = cac.month
        and cohorts.acquisition_channel = cac.acquisition_channel
    where cac.cac is not null
        and cohorts.cumulative_margin_per_customer >= cac.cac
    group by cohorts.cohort_month, cohorts.acquisition_channel

),

final as (

    select
        per_cohort.cohort_month,
        per_cohort.acquisition_channel,
        per_cohort.cohort_size,
        per_cohort.months_observed,
        cac.spend as acquisition_spend,
        cac.cac,
        per_cohort.margin_per_customer_3m,
        per_cohort.margin_per_customer_6m,
        per_cohort.margin_per_customer_12m,
        to_date.margin_per_customer_to_date,
        to_date.net_revenue_per_customer_to_date,
        {{ safe_divide('per_cohort.margin_per_customer_3m', 'cac.cac') }} as ltv_to_cac_3m,
        {{ safe_divide('per_cohort.margin_per_customer_6m', 'cac.cac') }} as ltv_to_cac_6m,
        {{ safe_divide('per_cohort.margin_per_customer_12m', 'cac.cac') }} as ltv_to_cac_12m,
        {{ safe_divide('to_date.margin_per_customer_to_date', 'cac.cac') }} as ltv_to_cac_to_date,
        payback.payback_months,
        payback.payback_months is not null as is_paid_back

    from per_cohort
    left join to_date
        on per_cohort.cohort_month = to_date.cohort_month
        and per_cohort.acquisition_channel = to_date.acquisition_channel
    left join cac
        on per_cohort.cohort_month = cac.month
        and per_cohort.acquisition_channel = cac.acquisition_channel
    left join payback
        on per_cohort.cohort_month = payback.cohort_month
        and per_cohort.acquisition_channel = payback.acquisition_channel

)

select * from final
