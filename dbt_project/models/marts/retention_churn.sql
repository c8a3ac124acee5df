{#
    Monthly movement of the active customer base under the churn definition of
    int_lifecycle_events_unioned (no order for `churn_days` days = churned), broken down
    three ways (`breakdown` = all / acquisition_channel / rfm_segment).
    The RFM segment is the customer's segment on as_of, so its rows read as the history
    of today's segment members.
#}
with

events as (

    select * from {{ ref('int_lifecycle_events_unioned') }}

),

customers as (

    select * from {{ ref('int_customers_unioned') }}
    where is_purchaser

),

rfm as (

    select * from {{ ref('customer_rfm') }}

),

activity as (

    select * from {{ ref('int_orders_aggregated_to_customer_months') }}

),

attributes as (

    select
        customers.customer_id,
        customers.acquisition_channel,
        rfm.rfm_segment

    from customers
    left join rfm
        on customers.customer_id = rfm.customer_id

),

{#- One pass over events and over monthly activity, counted for all three breakdowns at
    once with grouping sets instead of three joins to a tripled customer list. #}
{%- set breakdown_columns -%}
        case
            when grouping(attributes.acquisition_channel) = 0 then 'acquisition_channel'
            when grouping(attributes.rfm_segment) = 0 then 'rfm_segment'
            else 'all'
        end as breakdown,
        case
            when grouping(attributes.acquisition_channel) = 0 then attributes.acquisition_channel
            when grouping(attributes.rfm_segment) = 0 then attributes.rfm_segment
            else 'all'
        end as breakdown_value
{%- endset -%}
{%- set grouping_sets -%}
    group by grouping sets (
        (period_month),
        (period_month, attributes.acquisition_channel),
        (period_month, attributes.rfm_segment)
    )
{%- endset %}

event_counts as (

    select
        {{ breakdown_columns }},
        period_month,
        sum(case when events.event_type = 'acquired' then 1 else 0 end) as new_customers,
        sum(case when events.event_type = 'reactivated' then 1 else 0 end) as reactivated_customers,
        sum(case when events.event_type = 'churned' then 1 else 0 end) as churned_customers,
        sum(events.active_delta) as net_change

    from (
        select *, {{ month_of('event_date') }} as period_month from events
    ) as events
    inner join attributes
        on events.customer_id = attributes.customer_id
    {{ grouping_sets }}

),

active_counts as (

    select
        {{ breakdown_columns }},
        period_month,
        count(*) as ordering_customers

    from (
        select customer_id, order_month as period_month from activity
    ) as activity
    inner join attributes
        on activity.customer_id = attributes.customer_id
    {{ grouping_sets }}

),

series as (

    select breakdown, breakdown_value, min(period_month) as first_month
    from event_counts
    group by breakdown, breakdown_value

),

month_offsets as (

    {{ month_offsets() }}

),

grid as (

    select
        series.breakdown,
        series.breakdown_value,
        {{ add_months('month_offsets.month_offset', 'series.first_month') }} as period_month

    from series
    cross join month_offsets
    where month_offsets.month_offset <= {{ months_between('series.first_month', as_of_month()) }}

),

joined as (

    select
        grid.breakdown,
        grid.breakdown_value,
        grid.period_month,
        cast(coalesce(event_counts.new_customers, 0) as {{ dbt.type_bigint() }}) as new_customers,
        cast(coalesce(event_counts.reactivated_customers, 0) as {{ dbt.type_bigint() }}) as reactivated_customers,
        cast(coalesce(event_counts.churned_customers, 0) as {{ dbt.type_bigint() }}) as churned_customers,
        cast(coalesce(event_counts.net_change, 0) as {{ dbt.type_bigint() }}) as net_change,
        coalesce(active_counts.ordering_customers, 0) as ordering_customers

    from grid
    left join event_counts
        on grid.breakdown = event_counts.breakdown
        and grid.breakdown_value = event_counts.breakdown_value
        and grid.period_month = event_counts.period_month
    left join active_counts
        on grid.breakdown = active_counts.breakdown
        and grid.breakdown_value = active_counts.breakdown_value
        and grid.period_month = active_counts.period_month

),

running as (

    select
        *,
        cast(sum(net_change) over (
            partition by breakdown, breakdown_value
            order by period_month
            rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as active_at_end

    from joined

),

final as (

    select
        breakdown,
        breakdown_value,
        period_month,
        {{ add_months(1, 'period_month') }} <= {{ add_days(1, as_of_date()) }} as is_complete_month,
        {{ ltv_var('churn_days') }} as churn_days,
        active_at_end - net_change as active_at_start,
        new_customers,
        reactivated_customers,
        churned_customers,
        active_at_end,
        ordering_customers,
        active_at_end - net_change + new_customers + reactivated_customers as customers_at_risk,
        {{ safe_divide('churned_customers', 'active_at_end - net_change + new_customers + reactivated_customers') }}
            as churn_rate,
        1 - {{ safe_divide('churned_customers', 'active_at_end - net_change + new_customers + reactivated_customers') }}
            as retention_rate

    from running

)

select * from final
