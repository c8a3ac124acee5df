{#
    The customers a daily incremental build redoes (macros/incremental.sql), found once per
    build rather than by each incremental model (six scans of the raw tables before): those
    with an order or a customer record loaded since the last build (var `changed_since`) or
    dated into the as_of window since its as_of (var `previous_as_of`). `churn_in_window`
    also marks the customers with an order exactly `churn_days` before a day of the window,
    whose churn event falls in it (only the lifecycle events redo those).
    Empty in a build without the two vars (a full build, a build by hand), where no model
    reads it.
#}
{{ config(materialized='table') }}

{%- set since = ltv_var('changed_since') %}
{%- set previous = ltv_var('previous_as_of') %}
{%- set window_known = since is not none and previous is not none %}
{%- if window_known %}
    {%- set since = "cast('" ~ since ~ "' as " ~ utc_timestamp_type() ~ ")" %}
    {%- set previous = "cast('" ~ previous ~ "' as date)" %}
    {%- set churn_day = add_days(ltv_var('churn_days') | int, 'row_date') %}
{%- endif %}

with

flagged as (

    select
        customer_id,
        {% if window_known -%}
        loaded_at > {{ since }} or row_date > {{ previous }} as has_changed_rows,
        source_table = 'orders' and {{ churn_day }} > {{ previous }} and {{ churn_day }} <= {{ as_of_date() }} as churn_in_window
        {%- else -%}
        false as has_changed_rows,
        false as churn_in_window
        {%- endif %}

    from {{ ref('stg_raw__customer_changes') }}
    where {{ 'true' if window_known else 'false' }}

),

final as (

    select
        customer_id,
        {{ dbt.bool_or('has_changed_rows') }} as has_changed_rows,
        {{ dbt.bool_or('churn_in_window') }} as churn_in_window

    from flagged
    where has_changed_rows or churn_in_window
    group by customer_id

)

select * from final
