{{ config(meta={'dagster': {'ref': {'name': 'cohort_retention'}}}) }}

-- Accounting identity: acquisition cohorts partition the customers who ordered. Summed
-- over cohorts, month-0 cohort sizes equal the number of purchasing customers, in total
-- and per channel; every cohort's month-0 row has all its customers active; and the
-- channel CAC mart counts the same new customers.
with

customers as (

    select acquisition_channel, count(*) as customers
    from {{ ref('customers') }}
    where is_purchaser
    group by acquisition_channel

),

cohorts as (

    select
        acquisition_channel,
        sum(cohort_size) as customers,
        sum(case when active_customers <> cohort_size then 1 else 0 end) as month_0_not_all_active

    from {{ ref('cohort_retention') }}
    where months_since_acquisition = 0
    group by acquisition_channel

),

cac as (

    select acquisition_channel, sum(new_customers) as customers
    from {{ ref('channel_cac_monthly') }}
    group by acquisition_channel

),

compared as (

    select
        coalesce(customers.acquisition_channel, cohorts.acquisition_channel, cac.acquisition_channel)
            as acquisition_channel,
        coalesce(customers.customers, 0) as purchasing_customers,
        coalesce(cohorts.customers, 0) as cohort_customers,
        coalesce(cac.customers, 0) as cac_new_customers,
        coalesce(cohorts.month_0_not_all_active, 0) as month_0_not_all_active

    from customers
    full outer join cohorts
        on customers.acquisition_channel = cohorts.acquisition_channel
    full outer join cac
        on coalesce(customers.acquisition_channel, cohorts.acquisition_channel) = cac.acquisition_channel

)

select * from compared
where purchasing_customers <> cohort_customers
    or purchasing_customers <> cac_new_customers
    or month_0_not_all_active > 0
