{#
    Cohort = customers whose first order fell in the same calendar month, split by
    acquisition channel. One row for every month since acquisition from 0 (the
    acquisition month) to as_of's month, including months in which nobody ordered.
#}
with

customers as (

    select * from {{ ref('int_customers_unioned') }}
    where is_purchaser

),

activity as (

    select * from {{ ref('int_orders_aggregated_to_customer_months') }}

),

cohorts as (

    select
        cohort_month,
        acquisition_channel,
        count(*) as cohort_size

    from customers
    group by cohort_month, acquisition_channel

),

month_offsets as (

    {{ month_offsets() }}

),

grid as (

    select
        cohorts.cohort_month,
        cohorts.acquisition_channel,
        cohorts.cohort_size,
        month_offsets.month_offset as months_since_acquisition

    from cohorts
    cross join month_offsets
    where month_offsets.month_offset <= {{ months_between('cohorts.cohort_month', as_of_month()) }}

),

activity_by_cohort as (

    select
        cohort_month,
        acquisition_channel,
        months_since_acquisition,
        count(*) as active_customers,
        sum(orders) as orders,
        sum(net_revenue) as net_revenue,
        sum(margin) as margin

    from activity
    group by cohort_month, acquisition_channel, months_since_acquisition

),

joined as (

    select
        grid.cohort_month,
        grid.acquisition_channel,
        grid.months_since_acquisition,
        {{ add_months('grid.months_since_acquisition', 'grid.cohort_month') }} as calendar_month,
        grid.cohort_size,
        coalesce(activity_by_cohort.active_customers, 0) as active_customers,
        coalesce(activity_by_cohort.orders, 0) as orders,
        coalesce(activity_by_cohort.net_revenue, 0) as net_revenue,
        coalesce(activity_by_cohort.margin, 0) as margin

    from grid
    left join activity_by_cohort
        on grid.cohort_month = activity_by_cohort.cohort_month
        and grid.acquisition_channel = activity_by_cohort.acquisition_channel
        and grid.months_since_acquisition = activity_by_cohort.months_since_acquisition

),

cumulated as (

    select
        *,
        sum(net_revenue) over (
            partition by cohort_month, acquisition_channel
            order by months_since_acquisition
            rows between unbounded preceding and current row
        ) as cumulative_net_revenue,
        sum(margin) over (
            partition by cohort_month, acquisition_channel
            order by months_since_acquisition
            rows between unbounded preceding and current row
        ) as cumulative_margin

    from joined

),

final as (

    select
        cohort_month,
        acquisition_channel,
        months_since_acquisition,
        calendar_month,
        {{ add_months(1, 'calendar_month') }} <= {{ add_days(1, as_of_date()) }} as is_complete_month,
        cohort_size,
        active_customers,
        {{ safe_divide('active_customers', 'cohort_size') }} as retention_rate,
        orders,
        net_revenue,
        margin,
        cumulative_net_revenue,
        cumulative_margin,
        {{ safe_divide('cumulative_net_revenue', 'cohort_size') }} as cumulative_net_revenue_per_customer,
        {{ safe_divide('cumulative_margin', 'cohort_size') }} as cumulative_margin_per_customer

    from cumulated

)

select * from final
