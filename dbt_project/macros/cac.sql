{#
    CAC and its trend for a monthly series, partitioned by `partition_by` and ordered by
    `month` (the series must have one row per month, as int_acquisition_spend_joined
    guarantees):
      cac                      spend / new customers of the month (null when either is missing)
      previous_month_cac       cac of the month before
      cac_change_vs_previous   cac / previous_month_cac - 1
      rolling_3m_cac           spend / new customers over this and the two previous months
      cac_vs_rolling_3m        cac / rolling_3m_cac - 1  (> 0: this month dearer than its trend)
#}
{% macro cac_with_trend(partition_by) -%}
    {%- set window -%}
        partition by {{ partition_by | join(', ') }} order by month
    {%- endset -%}
    {{ safe_divide('spend', 'new_customers') }} as cac,
    lag({{ safe_divide('spend', 'new_customers') }}) over ({{ window }}) as previous_month_cac,
    {{ safe_divide('spend', 'new_customers') }}
        / nullif(lag({{ safe_divide('spend', 'new_customers') }}) over ({{ window }}), 0) - 1
        as cac_change_vs_previous,
    {{ safe_divide(
        'sum(spend) over (' ~ window ~ ' rows between 2 preceding and current row)',
        'sum(new_customers) over (' ~ window ~ ' rows between 2 preceding and current row)'
    ) }} as rolling_3m_cac,
    {{ safe_divide('spend', 'new_customers') }}
        / nullif({{ safe_divide(
            'sum(spend) over (' ~ window ~ ' rows between 2 preceding and current row)',
            'sum(new_customers) over (' ~ window ~ ' rows between 2 preceding and current row)'
        ) }}, 0) - 1 as cac_vs_rolling_3m
{%- endmacro %}
