{#
    RFM as of as_of for every customer with at least one order.

    recency   = days from the last order to as_of   (fewer is better)
    frequency = orders up to as_of                  (more is better)
    monetary  = net revenue up to as_of             (more is better)

    Each is scored 1-5 by quintile of the customer base: score = 1 + floor(5 * percent_rank),
    capped at 5, ranking so that 5 is best. Ties share a percent rank, so equal values get
    equal scores (the lower one): a base where most customers bought once gives them all
    frequency 1. fm_score = (frequency_score + monetary_score) / 2, rounded half up.
    The segment is looked up from (recency_score, fm_score) in the seed `rfm_segment_map`,
    the one place the score-to-segment map is defined.
#}
with

customers as (

    select * from {{ ref('int_customers_unioned') }}
    where is_purchaser

),

segment_map as (

    select * from {{ ref('rfm_segment_map') }}

),

measured as (

    select
        customer_id,
        last_order_date,
        {{ days_between('last_order_date', as_of_date()) }} as recency_days,
        orders as frequency,
        net_revenue as monetary

    from customers

),

ranked as (

    select
        *,
        percent_rank() over (order by recency_days desc) as recency_rank,
        percent_rank() over (order by frequency) as frequency_rank,
        percent_rank() over (order by monetary) as monetary_rank

    from measured

),

scored as (

    select
        customer_id,
        last_order_date,
        recency_days,
        frequency,
        monetary,
        cast(least(5, 1 + floor(5 * recency_rank)) as {{ dbt.type_int() }}) as recency_score,
        cast(least(5, 1 + floor(5 * frequency_rank)) as {{ dbt.type_int() }}) as frequency_score,
        cast(least(5, 1 + floor(5 * monetary_rank)) as {{ dbt.type_int() }}) as monetary_score

    from ranked

),

combined as (

    select
        *,
        cast(floor((frequency_score + monetary_score) / 2.0 + 0.5) as {{ dbt.type_int() }}) as fm_score,
        {{ dbt.concat([
            dbt.cast('recency_score', dbt.type_string()),
            dbt.cast('frequency_score', dbt.type_string()),
            dbt.cast('monetary_score', dbt.type_string()),
        ]) }} as rfm_cell

    from scored

),

final as (

    select
        combined.customer_id,
        {{ as_of_date() }} as as_of,
        combined.last_order_date,
        combined.recency_days,
        combined.frequency,
        combined.monetary,
        combined.recency_score,
        combined.frequency_score,
        combined.monetary_score,
        combined.fm_score,
        combined.rfm_cell,
        segment_map.rfm_segment

    from combined
    left join segment_map
        on combined.recency_score = segment_map.recency_score
        and combined.fm_score = segment_map.fm_score

)

select * from final
