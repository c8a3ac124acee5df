{{ config(meta={'dagster': {'ref': {'name': 'orders'}}}) }}

-- Accounting identity: the orders mart holds every raw order dated up to as_of, once,
-- and its total net revenue equals raw revenue minus raw refunds (null refund = 0) over
-- those orders. Compared against the source itself, not staging, so a filter or join
-- bug anywhere in between fails here.
with

raw_orders as (

    select
        count(*) as orders,
        coalesce(sum(revenue - coalesce(refund, 0)), 0) as net_revenue

    from {{ source('raw', 'orders') }}
    where cast(order_ts as date) <= {{ as_of_date() }}

),

mart as (

    select
        count(*) as orders,
        coalesce(sum(net_revenue), 0) as net_revenue

    from {{ ref('orders') }}

)

select
    raw_orders.orders as raw_orders,
    mart.orders as mart_orders,
    raw_orders.net_revenue as raw_net_revenue,
    mart.net_revenue as mart_net_revenue

from raw_orders
cross join mart
where raw_orders.orders <> mart.orders
    or abs(raw_orders.net_revenue - mart.net_revenue) > 1e-6 * greatest(1, abs(raw_orders.net_revenue))
