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
    cast({{ var(name) }} as double)
{%- endmacro %}
