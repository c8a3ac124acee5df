{#
    Model features and labels per customer at three cutoffs, strictly from data up to each
    cutoff (labels: strictly after it):

      score    = as_of                     features to score with; no labels yet
      evaluate = as_of - horizon_days      the back-test: features here, labels up to as_of
      train    = as_of - 2 * horizon_days  training rows for the back-tested models

    A cutoff is kept only when some customer had ordered by then. A run that reuses models
    trained earlier only scores: it passes `feature_history: false` and gets the score
    cutoff alone, which is most of the saving of a daily run (ltv_pipeline/marts/incremental.py). The purchase-model
    statistics follow the BG/NBD convention: orders on the same calendar day are one
    transaction (a "purchase day"); frequency counts repeat purchase days; recency and T
    are in days from the first purchase day.
#}
{{ config(materialized='table', schema='features') }}

with

orders as (

    select * from {{ ref('orders') }}

),

customers as (

    select customer_id, acquisition_channel
    from {{ ref('int_customers_unioned') }}
    where is_purchaser

),

tickets as (

    select * from {{ ref('stg_raw__support_tickets') }}

),

first_orders as (

    select customer_id, min(order_date) as first_order_date
    from orders
    group by customer_id

),

cutoffs as (

    select 'score' as cutoff_role, {{ as_of_date() }} as cutoff_date
    {%- if var('feature_history', true) %}
    union all
    select 'evaluate', {{ add_days(-1 * var('horizon_days'), as_of_date()) }}
    union all
    select 'train', {{ add_days(-2 * var('horizon_days'), as_of_date()) }}
    {%- endif %}

),

usable_cutoffs as (

    select cutoffs.*
    from cutoffs
    where cutoff_date >= (select min(first_order_date) from first_orders)

),

purchase_days as (

    select
        customer_id,
        order_date,
        count(*) as orders,
        sum(revenue) as revenue,
        sum(net_revenue) as net_revenue,
        sum(margin) as margin,
        sum(coalesce(refund, 0)) as refund,
        lag(order_date) over (partition by customer_id order by order_date) as previous_purchase_date

    from orders
    group by customer_id, order_date

),

history as (

    select
        usable_cutoffs.cutoff_role,
        usable_cutoffs.cutoff_date,
        purchase_days.*,
        first_orders.first_order_date,
        {{ days_between('purchase_days.order_date', 'usable_cutoffs.cutoff_date') }} as days_before_cutoff,
        {{ days_between('purchase_days.previous_purchase_date', 'purchase_days.order_date') }} as gap_days,
        {{ days_between('first_orders.first_order_date', 'purchase_days.order_date') }} as days_since_first

    from purchase_days
    inner join first_orders
        on purchase_days.customer_id = first_orders.customer_id
    inner join usable_cutoffs
        on purchase_days.order_date <= usable_cutoffs.cutoff_date

),

behaviour as (

    select
        customer_id,
        cutoff_role,
        cutoff_date,
        min(first_order_date) as first_order_date,
        max(order_date) as last_order_date,
        sum(orders) as n_orders,
        count(*) as n_purchase_days,
        count(*) - 1 as frequency,
        {{ days_between('min(first_order_date)', 'max(order_date)') }} as btyd_recency,
        {{ days_between('min(first_order_date)', 'min(cutoff_date)') }} as tenure_days,
        {{ days_between('max(order_date)', 'min(cutoff_date)') }} as recency_days,
        sum(revenue) as total_revenue,
        sum(net_revenue) as total_net_revenue,
        sum(margin) as total_margin,
        sum(margin) / sum(orders) as monetary_mean,
        coalesce(avg(case when days_since_first > 0 then margin end), 0) as btyd_monetary,
        sum(case when days_since_first = 0 then margin end) as first_order_margin,
        sum(case when days_since_first = 0 then net_revenue end) as first_order_value,
        avg(gap_days) as ipt_mean,
        stddev_samp(gap_days) as ipt_std,
        min(case when days_since_first > 0 then days_since_first end) as days_first_to_second,
        sum(case when days_since_first < 30 then orders else 0 end) as orders_first_30d,
        sum(case when days_before_cutoff < 30 then orders else 0 end) as orders_30d,
        sum(case when days_before_cutoff < 90 then orders else 0 end) as orders_90d,
        sum(case when days_before_cutoff < 180 then orders else 0 end) as orders_180d,
        sum(case when days_before_cutoff >= 90 and days_before_cutoff < 180 then orders else 0 end) as orders_prev_90d,
        sum(case when days_before_cutoff < 90 then margin else 0 end) as margin_90d,
        sum(case when days_before_cutoff < {{ var('horizon_days') }} then margin else 0 end) as margin_last_horizon,
        {{ safe_divide('sum(refund)', 'sum(revenue)') }} as refund_rate

    from history
    group by customer_id, cutoff_role, cutoff_date

),

support as (

    select
        behaviour.customer_id,
        behaviour.cutoff_role,
        count(tickets.ticket_id) as tickets_total,
        sum(case when {{ days_between('cast(tickets.created_ts as date)', 'behaviour.cutoff_date') }} < 90 then 1 else 0 end) as tickets_90d,
        avg(cast(tickets.csat as double)) as csat_mean,
        sum(case when tickets.csat <= 2 then 1 else 0 end) as low_csat_tickets,
        max(tickets.created_ts) as last_ticket_ts

    from behaviour
    inner join tickets
        on tickets.customer_id = behaviour.customer_id
        and cast(tickets.created_ts as date) <= behaviour.cutoff_date
        -- a rating is known at the cutoff only if the ticket was resolved by then
        and (tickets.resolved_ts is null or cast(tickets.resolved_ts as date) <= behaviour.cutoff_date)
    group by behaviour.customer_id, behaviour.cutoff_role

),

last_csat as (

    select
        behaviour.customer_id,
        behaviour.cutoff_role,
        max_by(tickets.csat, tickets.created_ts) as csat_last

    from behaviour
    inner join tickets
        on tickets.customer_id = behaviour.customer_id
        and cast(tickets.created_ts as date) <= behaviour.cutoff_date
        and tickets.csat is not null
        and (tickets.resolved_ts is null or cast(tickets.resolved_ts as date) <= behaviour.cutoff_date)
    group by behaviour.customer_id, behaviour.cutoff_role

),

future as (

    select
        behaviour.customer_id,
        behaviour.cutoff_role,
        count(purchase_days.order_date) as label_orders,
        sum(
            purchase_days.margin
                * {{ discount_factor(days_between('behaviour.cutoff_date', 'purchase_days.order_date')) }}
        ) as label_margin_gross

    from behaviour
    inner join purchase_days
        on purchase_days.customer_id = behaviour.customer_id
        and purchase_days.order_date > behaviour.cutoff_date
        and purchase_days.order_date <= {{ add_days(var('horizon_days'), 'behaviour.cutoff_date') }}
    where behaviour.cutoff_role != 'score'
    group by behaviour.customer_id, behaviour.cutoff_role

),

future_tickets as (

    select
        behaviour.customer_id,
        behaviour.cutoff_role,
        sum(
            {{ discount_factor(days_between('behaviour.cutoff_date', 'cast(tickets.created_ts as date)')) }}
        ) as discounted_tickets

    from behaviour
    inner join tickets
        on tickets.customer_id = behaviour.customer_id
        and cast(tickets.created_ts as date) > behaviour.cutoff_date
        and cast(tickets.created_ts as date) <= {{ add_days(var('horizon_days'), 'behaviour.cutoff_date') }}
    where behaviour.cutoff_role != 'score'
    group by behaviour.customer_id, behaviour.cutoff_role

),

final as (

    select
        behaviour.customer_id,
        behaviour.cutoff_role,
        behaviour.cutoff_date,
        coalesce(customers.acquisition_channel, 'unknown') as acquisition_channel,
        behaviour.first_order_date,
        behaviour.last_order_date,
        behaviour.n_orders,
        behaviour.n_purchase_days,
        behaviour.frequency,
        behaviour.btyd_recency,
        behaviour.tenure_days,
        behaviour.recency_days,
        behaviour.total_revenue,
        behaviour.total_net_revenue,
        behaviour.total_margin,
        behaviour.monetary_mean,
        behaviour.btyd_monetary,
        behaviour.first_order_margin,
        behaviour.first_order_value,
        behaviour.ipt_mean,
        behaviour.ipt_std,
        behaviour.days_first_to_second,
        behaviour.orders_first_30d,
        behaviour.orders_30d,
        behaviour.orders_90d,
        behaviour.orders_180d,
        behaviour.orders_prev_90d,
        behaviour.orders_90d - behaviour.orders_prev_90d as trend,
        behaviour.margin_90d,
        behaviour.margin_last_horizon,
        behaviour.refund_rate,
        coalesce(support.tickets_total, 0) as tickets_total,
        coalesce(support.tickets_90d, 0) as tickets_90d,
        support.csat_mean,
        last_csat.csat_last,
        coalesce(support.low_csat_tickets, 0) as low_csat_tickets,
        behaviour.cutoff_role != 'score' as label_available,
        case when behaviour.cutoff_role != 'score' then coalesce(future.label_orders, 0) end as label_orders,
        case
            when behaviour.cutoff_role != 'score'
                then coalesce(future.label_margin_gross, 0)
                    - {{ number_var('support_cost_per_ticket') }} * coalesce(future_tickets.discounted_tickets, 0)
        end as label_margin,
        case
            when behaviour.cutoff_role != 'score' then cast(coalesce(future.label_orders, 0) = 0 as {{ dbt.type_int() }})
        end as label_churn

    from behaviour
    left join customers
        on behaviour.customer_id = customers.customer_id
    left join support
        on behaviour.customer_id = support.customer_id and behaviour.cutoff_role = support.cutoff_role
    left join last_csat
        on behaviour.customer_id = last_csat.customer_id and behaviour.cutoff_role = last_csat.cutoff_role
    left join future
        on behaviour.customer_id = future.customer_id and behaviour.cutoff_role = future.cutoff_role
    left join future_tickets
        on behaviour.customer_id = future_tickets.customer_id and behaviour.cutoff_role = future_tickets.cutoff_role

)

select * from final
