{#
    Model features and labels per customer at three cutoffs, strictly from data up to each
    cutoff (labels: strictly after it):

      score    = as_of                     features to score with; no labels yet
      evaluate = as_of - horizon_days      the back-test: features here, labels up to as_of
      train    = as_of - 2 * horizon_days  training rows for the back-tested models

    With a horizon shorter than a year, two season-aligned cutoffs whose label windows cover
    the same calendar days one year earlier (labels horizon_days long):

      aligned        = as_of - 365                 production rows whose labels show the
                                                    season the forecast will meet
      aligned_train  = as_of - horizon_days - 365  their back-test twin: labels on the same
                                                    calendar days as the `evaluate` labels

    A cutoff is kept only when some customer had ordered by then. The purchase-model
    statistics follow the BG/NBD convention: orders on the same calendar day are one
    transaction (a "purchase day"); frequency counts repeat purchase days; recency and T
    are in days from the first purchase day.

    Two routes to the same features. The past cutoffs (evaluate, train) re-aggregate every
    purchase day up to each cutoff. The score cutoff is "now": its lifetime figures are the
    customer's whole history, which int_orders_aggregated_to_customers already holds (and
    keeps incrementally), so only the look-back windows (30/90/180 days, the horizon) read
    orders, those of the last window. A run that reuses models trained earlier only
    scores: it passes `feature_history: false` and builds the score cutoff alone, without
    touching the full order history (ltv_pipeline/marts/incremental.py). The two routes
    agree to the last bits of a float (tests/integration/test_features_no_leakage.py
    builds a score cutoff and the same day as an evaluate cutoff and compares them).
#}
{{ config(materialized='table', schema='features') }}

{%- set with_history = ltv_var('feature_history') %}
{%- set horizon_days = ltv_var('horizon_days') | int %}
{%- set look_back_days = [horizon_days, 180] | max %}

with

orders as (

    select * from {{ ref('orders') }}

),

lifetime as (

    select * from {{ ref('int_orders_aggregated_to_customers') }}

),

customers as (

    select customer_id, acquisition_channel
    from {{ ref('int_customers_unioned') }}
    where is_purchaser

),

tickets as (

    select * from {{ ref('stg_raw__support_tickets') }}

),

{%- if with_history %}

-- A history shorter than two and a half horizons leaves the `train` cutoff with few or no
-- customers, so the horizon-long back-test cannot run out of time. A shorter label window
-- (a third of the history, at most 180 days) then gives two more cutoffs whose labels end
-- by as_of: `window_train` = as_of - 2 x window, `window_evaluate` = as_of - window.
window_length as (

    select least(180, cast(floor(history_days / 3.0) as {{ dbt.type_int() }})) as window_days
    from (
        select {{ days_between('min(first_order_date)', as_of_date()) }} as history_days
        from lifetime
    ) as history_span
    where history_days < {{ (2.5 * horizon_days) | int }} and history_days >= 90

),

{%- endif %}

cutoffs as (

    select 'score' as cutoff_role, {{ as_of_date() }} as cutoff_date, cast(null as {{ dbt.type_int() }}) as label_days
    {%- if with_history %}
    union all
    select 'evaluate', {{ add_days(-1 * horizon_days, as_of_date()) }}, {{ horizon_days }}
    union all
    select 'train', {{ add_days(-2 * horizon_days, as_of_date()) }}, {{ horizon_days }}
    union all
    select 'window_evaluate', {{ add_days('-1 * window_days', as_of_date()) }}, window_days from window_length
    union all
    select 'window_train', {{ add_days('-2 * window_days', as_of_date()) }}, window_days from window_length
    {%- if horizon_days < 365 %}
    union all
    select 'aligned', {{ add_days(-365, as_of_date()) }}, {{ horizon_days }}
    union all
    select 'aligned_train', {{ add_days(-1 * (horizon_days + 365), as_of_date()) }}, {{ horizon_days }}
    {%- endif %}
    {%- endif %}

),

usable_cutoffs as (

    select cutoffs.*
    from cutoffs
    where cutoff_date >= (select min(first_order_date) from lifetime)

),

-- The score cutoff: lifetime figures from the per-customer history, windows from recent orders.

recent_orders as (

    select
        customer_id,
        {{ days_between('order_date', as_of_date()) }} as days_before_cutoff,
        margin
    from orders
    where order_date > {{ add_days(-1 * look_back_days, as_of_date()) }}

),

recent_windows as (

    select
        customer_id,
        sum(case when days_before_cutoff < 30 then 1 else 0 end) as orders_30d,
        sum(case when days_before_cutoff < 90 then 1 else 0 end) as orders_90d,
        sum(case when days_before_cutoff < 180 then 1 else 0 end) as orders_180d,
        sum(case when days_before_cutoff >= 90 and days_before_cutoff < 180 then 1 else 0 end) as orders_prev_90d,
        sum(case when days_before_cutoff < 90 then margin else 0 end) as margin_90d,
        sum(case when days_before_cutoff < {{ horizon_days }} then margin else 0 end) as margin_last_horizon
    from recent_orders
    group by customer_id

),

score_behaviour as (

    select
        lifetime.customer_id,
        usable_cutoffs.cutoff_role,
        usable_cutoffs.cutoff_date,
        lifetime.first_order_date,
        lifetime.last_order_date,
        lifetime.orders as n_orders,
        cast(lifetime.purchase_days as {{ dbt.type_bigint() }}) as n_purchase_days,
        cast(lifetime.purchase_days - 1 as {{ dbt.type_bigint() }}) as frequency,
        {{ days_between('lifetime.first_order_date', 'lifetime.last_order_date') }} as btyd_recency,
        {{ days_between('lifetime.first_order_date', 'usable_cutoffs.cutoff_date') }} as tenure_days,
        {{ days_between('lifetime.last_order_date', 'usable_cutoffs.cutoff_date') }} as recency_days,
        lifetime.revenue as total_revenue,
        lifetime.net_revenue as total_net_revenue,
        lifetime.margin as total_margin,
        lifetime.margin / lifetime.orders as monetary_mean,
        case
            when lifetime.purchase_days > 1 then lifetime.repeat_days_margin / (lifetime.purchase_days - 1)
            else 0
        end as btyd_monetary,
        lifetime.first_day_margin as first_order_margin,
        lifetime.first_day_net_revenue as first_order_value,
        -- mean and sample deviation of the gaps between purchase days: the gaps add up to
        -- last - first; the deviation from the exact integer sums n*sum(g^2) - (sum g)^2
        case
            when lifetime.purchase_days > 1
                then cast({{ days_between('lifetime.first_order_date', 'lifetime.last_order_date') }} as double)
                    / (lifetime.purchase_days - 1)
        end as ipt_mean,
        case
            when lifetime.purchase_days > 2
                then sqrt(
                    greatest(
                        cast(
                            (lifetime.purchase_days - 1) * lifetime.purchase_gap_days_sum_of_squares
                            - {{ days_between('lifetime.first_order_date', 'lifetime.last_order_date') }}
                                * {{ days_between('lifetime.first_order_date', 'lifetime.last_order_date') }}
                            as double
                        ),
                        0
                    ) / ((lifetime.purchase_days - 1) * (lifetime.purchase_days - 2))
                )
        end as ipt_std,
        {{ days_between('lifetime.first_order_date', 'lifetime.second_purchase_date') }} as days_first_to_second,
        lifetime.orders_first_30d,
        coalesce(recent_windows.orders_30d, 0) as orders_30d,
        coalesce(recent_windows.orders_90d, 0) as orders_90d,
        coalesce(recent_windows.orders_180d, 0) as orders_180d,
        coalesce(recent_windows.orders_prev_90d, 0) as orders_prev_90d,
        coalesce(recent_windows.margin_90d, 0) as margin_90d,
        coalesce(recent_windows.margin_last_horizon, 0) as margin_last_horizon,
        {{ safe_divide('coalesce(lifetime.refund, 0)', 'lifetime.revenue') }} as refund_rate

    from lifetime
    inner join usable_cutoffs
        on usable_cutoffs.cutoff_role = 'score'
    left join recent_windows
        on lifetime.customer_id = recent_windows.customer_id

),

{%- if with_history %}

-- The past cutoffs: every purchase day up to each.

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
        lifetime.first_order_date,
        {{ days_between('purchase_days.order_date', 'usable_cutoffs.cutoff_date') }} as days_before_cutoff,
        {{ days_between('purchase_days.previous_purchase_date', 'purchase_days.order_date') }} as gap_days,
        {{ days_between('lifetime.first_order_date', 'purchase_days.order_date') }} as days_since_first

    from purchase_days
    inner join lifetime
        on purchase_days.customer_id = lifetime.customer_id
    inner join usable_cutoffs
        on purchase_days.order_date <= usable_cutoffs.cutoff_date
        and usable_cutoffs.cutoff_role != 'score'

),

past_behaviour as (

    select
        customer_id,
        cutoff_role,
        cutoff_date,
        min(first_order_date) as first_order_date,
        max(order_date) as last_order_date,
        cast(sum(orders) as {{ dbt.type_bigint() }}) as n_orders,
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
        sum(case when days_before_cutoff < {{ horizon_days }} then margin else 0 end) as margin_last_horizon,
        {{ safe_divide('sum(refund)', 'sum(revenue)') }} as refund_rate

    from history
    group by customer_id, cutoff_role, cutoff_date

),

{%- endif %}

behaviour as (

    select * from score_behaviour
    {%- if with_history %}
    union all
    select * from past_behaviour
    {%- endif %}

),

-- Each customer's tickets opened by each cutoff, as staging shows them as of that day: a
-- ticket resolved after the cutoff counts, its rating was not known yet.
tickets_at_cutoffs as (

    select
        behaviour.customer_id,
        behaviour.cutoff_role,
        behaviour.cutoff_date,
        tickets.ticket_id,
        tickets.created_ts,
        case
            when tickets.resolved_ts is null or cast(tickets.resolved_ts as date) <= behaviour.cutoff_date
                then tickets.csat
        end as csat

    from behaviour
    inner join tickets
        on tickets.customer_id = behaviour.customer_id
        and cast(tickets.created_ts as date) <= behaviour.cutoff_date

),

support as (

    select
        customer_id,
        cutoff_role,
        count(ticket_id) as tickets_total,
        sum(case when {{ days_between('cast(created_ts as date)', 'cutoff_date') }} < 90 then 1 else 0 end) as tickets_90d,
        avg(cast(csat as double)) as csat_mean,
        sum(case when csat <= 2 then 1 else 0 end) as low_csat_tickets,
        max(created_ts) as last_ticket_ts,
        max(case when csat <= 2 then cast(created_ts as date) end) as last_low_csat_date

    from tickets_at_cutoffs
    group by customer_id, cutoff_role

),

last_csat as (

    select
        customer_id,
        cutoff_role,
        max_by(csat, created_ts) as csat_last

    from tickets_at_cutoffs
    where csat is not null
    group by customer_id, cutoff_role

),

{%- if with_history %}

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
    inner join usable_cutoffs
        on usable_cutoffs.cutoff_role = behaviour.cutoff_role
    inner join purchase_days
        on purchase_days.customer_id = behaviour.customer_id
        and purchase_days.order_date > behaviour.cutoff_date
        and purchase_days.order_date <= {{ add_days('usable_cutoffs.label_days', 'behaviour.cutoff_date') }}
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
    inner join usable_cutoffs
        on usable_cutoffs.cutoff_role = behaviour.cutoff_role
    inner join tickets
        on tickets.customer_id = behaviour.customer_id
        and cast(tickets.created_ts as date) > behaviour.cutoff_date
        and cast(tickets.created_ts as date) <= {{ add_days('usable_cutoffs.label_days', 'behaviour.cutoff_date') }}
    where behaviour.cutoff_role != 'score'
    group by behaviour.customer_id, behaviour.cutoff_role

),

{%- endif %}

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
        {{ days_between('cast(support.last_ticket_ts as date)', 'behaviour.cutoff_date') }} as days_since_ticket,
        {{ days_between('support.last_low_csat_date', 'behaviour.cutoff_date') }} as days_since_low_csat,
        behaviour.cutoff_role != 'score' as label_available,
        label_window.label_days,
        {%- if with_history %}
        case when behaviour.cutoff_role != 'score' then coalesce(future.label_orders, 0) end as label_orders,
        case
            when behaviour.cutoff_role != 'score'
                then coalesce(future.label_margin_gross, 0)
                    - {{ number_var('support_cost_per_ticket') }} * coalesce(future_tickets.discounted_tickets, 0)
        end as label_margin,
        case
            when behaviour.cutoff_role != 'score' then cast(coalesce(future.label_orders, 0) = 0 as {{ dbt.type_int() }})
        end as label_churn
        {%- else %}
        cast(null as {{ dbt.type_bigint() }}) as label_orders,
        cast(null as double) as label_margin,
        cast(null as {{ dbt.type_int() }}) as label_churn
        {%- endif %}

    from behaviour
    left join usable_cutoffs as label_window
        on behaviour.cutoff_role = label_window.cutoff_role
    left join customers
        on behaviour.customer_id = customers.customer_id
    left join support
        on behaviour.customer_id = support.customer_id and behaviour.cutoff_role = support.cutoff_role
    left join last_csat
        on behaviour.customer_id = last_csat.customer_id and behaviour.cutoff_role = last_csat.cutoff_role
    {%- if with_history %}
    left join future
        on behaviour.customer_id = future.customer_id and behaviour.cutoff_role = future.cutoff_role
    left join future_tickets
        on behaviour.customer_id = future_tickets.customer_id and behaviour.cutoff_role = future_tickets.cutoff_role
    {%- endif %}

)

select * from final
