{#
    Daily order facts per acquisition channel, up to as_of. Dagster materialises it by day
    (asset partitions, ltv_pipeline/marts/partitioned.py): a run for a range of days sets
    the vars `min_order_date`/`max_order_date` and replaces only those days
    (macros/order_date_window.sql). A day can be a partition because its facts depend on
    that day's rows of the `orders` mart alone; the `orders` mart itself cannot be one (an
    order's sequence number and next-order gap change with the customer's later orders).
    Without the vars the table is rebuilt whole (`should_full_refresh`, in
    macros/order_date_window.sql: the window is known only when dbt executes, so it cannot
    be a `full_refresh` config, which dbt fixes while parsing).
#}
{{
    config(
        materialized=daily_partitioned_materialization(),
        incremental_strategy='delete+insert',
        unique_key=['order_date', 'acquisition_channel'],
        on_schema_change='sync_all_columns',
        pre_hook="{{ delete_order_date_window('order_date') }}",
        tags=['daily_partitioned'],
    )
}}

with

orders as (

    select * from {{ ref('orders') }}
    {% if is_incremental() %}
    where {{ order_date_window('order_date') }}
    {% endif %}

),

final as (

    select
        order_date,
        acquisition_channel,
        count(*) as orders,
        count(distinct customer_id) as customers,
        sum(case when is_first_order then 1 else 0 end) as new_customers,
        sum(revenue) as revenue,
        sum(coalesce(refund, 0)) as refunds,
        sum(net_revenue) as net_revenue,
        sum(margin) as margin

    from orders
    group by order_date, acquisition_channel

)

select * from final
