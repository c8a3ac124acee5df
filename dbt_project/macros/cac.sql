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


{#
    The columns every monthly CAC mart carries after its keys: whether the month is complete
    as of the run's date, the spend side (spend, impressions, clicks; has_spend_data), the
    month's new customers, and `cac_with_trend` over `partition_by`.
#}
{% macro monthly_spend_and_cac(partition_by) -%}
    {{ add_months(1, 'month') }} <= {{ add_days(1, as_of_date()) }} as is_complete_month,
    has_spend_data,
    spend,
    impressions,
    clicks,
    new_customers,
    {{ cac_with_trend(partition_by) }}
{%- endmacro %}
