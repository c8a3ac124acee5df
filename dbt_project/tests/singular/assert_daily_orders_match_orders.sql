{{ config(severity='warn', tags=['daily_partitioned'], meta={'dagster': {'ref': {'name': 'daily_orders'}}}) }}

-- Every day of daily_orders agrees with the orders mart: same orders, first orders and net
-- revenue per day, and no day missing on either side. daily_orders is rebuilt by day (Dagster
-- partitions), so after a correction or a late delivery for an older day it is stale
-- for that day until the day's partition runs again: a warning naming those days, not an
-- error that would fail the run that is about to fix one of them. Tagged like the model,
-- so that only the partitioned asset runs it.
with

mart as (

    select
        order_date,
        count(*) as orders,
        sum(case when is_first_order then 1 else 0 end) as new_customers,
        coalesce(sum(net_revenue), 0) as net_revenue

    from {{ ref('orders') }}
    group by order_date

),

daily as (

    select
        order_date,
        sum(orders) as orders,
        sum(new_customers) as new_customers,
        coalesce(sum(net_revenue), 0) as net_revenue

    from {{ ref('daily_orders') }}
    group by order_date

),

compared as (

    select
        coalesce(mart.order_date, daily.order_date) as order_date,
        coalesce(mart.orders, 0) as mart_orders,
        coalesce(daily.orders, 0) as daily_orders,
        coalesce(mart.new_customers, 0) as mart_new_customers,
        coalesce(daily.new_customers, 0) as daily_new_customers,
        coalesce(mart.net_revenue, 0) as mart_net_revenue,
        coalesce(daily.net_revenue, 0) as daily_net_revenue

    from mart
    full outer join daily
        on mart.order_date = daily.order_date

)

select * from compared
where mart_orders <> daily_orders
    or mart_new_customers <> daily_new_customers
    or abs(mart_net_revenue - daily_net_revenue) > 1e-6 * greatest(1, abs(mart_net_revenue))
