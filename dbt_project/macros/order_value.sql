{#
    The contract's value definitions, in one place for every model:
      net_revenue = revenue - refund            (a null refund counts as 0)
      margin      = net_revenue - cost          where the order has a cost,
                    net_revenue * margin_rate   where it does not (var `margin_rate`).
#}
{% macro net_revenue(revenue, refund) -%}
    ({{ revenue }} - coalesce({{ refund }}, 0))
{%- endmacro %}

{% macro margin(revenue, refund, cost) -%}
    case
        when {{ cost }} is null then {{ net_revenue(revenue, refund) }} * {{ number_var('margin_rate') }}
        else {{ net_revenue(revenue, refund) }} - {{ cost }}
    end
{%- endmacro %}


{# Spend divided by customers, null (not infinite, not zero) when there is no one to divide by. #}
{% macro safe_divide(numerator, denominator) -%}
    ({{ numerator }} / nullif({{ denominator }}, 0))
{%- endmacro %}


{# A numeric dbt var as a double (a bare literal like 2.0 would be typed decimal by DuckDB). #}
{% macro number_var(name) -%}
    cast({{ ltv_var(name) }} as double)
{%- endmacro %}


{#
    The contract's discounting: a value `days` days after the cutoff is worth
    (1 + annual_discount_rate) ** (-days / 365) of itself at the cutoff.
    In doubles throughout: with decimal literals (`-1.0 * days / 365.0`) Spark would round
    the exponent to six decimals, DuckDB would not, and the engines would disagree.
#}
{% macro discount_factor(days) -%}
    power(1 + {{ number_var('annual_discount_rate') }}, -1 * cast({{ days }} as double) / 365)
{%- endmacro %}


{#
    The share of rows (0-1, a double) for which `condition` is true; a null condition counts
    as false. (`avg(case when ... then 1.0 else 0.0 end)` is a decimal average, which
    Spark rounds to five decimals.)
#}
{% macro share_where(condition) -%}
    avg(case when {{ condition }} then cast(1 as double) else cast(0 as double) end)
{%- endmacro %}


{# Average days per calendar month (365.25 / 12), as a double on every engine. #}
{% macro days_per_month() -%}
    cast(30.4375 as double)
{%- endmacro %}
