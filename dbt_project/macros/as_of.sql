{#
    The analysis date every model is computed "as of" (inclusive).

    It comes from the var `as_of` (ISO date): `--vars '{as_of: ...}'` by hand, or what the
    pipeline passes from `Settings.dbt_vars(as_of)` (`ltv_var`, macros/run_vars.sql).
    Staging filters every dated row to `<= as_of_date()`, so no model downstream can see
    anything that happened after it.
#}
{% macro as_of_date() -%}
    {%- set value = ltv_var('as_of') -%}
    {%- if execute and value is none -%}
        {{ exceptions.raise_compiler_error(
            "dbt var `as_of` is not set: pass --vars '{as_of: YYYY-MM-DD}' "
            ~ "(the pipeline passes Settings.dbt_vars(as_of) in LTV_DBT_VARS)"
        ) }}
    {%- endif -%}
    cast('{{ value }}' as date)
{%- endmacro %}


{# First day of the month that contains `as_of`. #}
{% macro as_of_month() -%}
    {{ month_of(as_of_date()) }}
{%- endmacro %}


{# The calendar month (as a date: its first day) that contains a date or timestamp. #}
{% macro month_of(expression) -%}
    cast({{ dbt.date_trunc('month', expression) }} as date)
{%- endmacro %}


{# Whole days from one date to another (second minus first), on dates, not timestamps. #}
{% macro days_between(first_date, second_date) -%}
    {{ dbt.datediff(first_date, second_date, 'day') }}
{%- endmacro %}


{# Whole months between two month-start dates (second minus first). #}
{% macro months_between(first_month, second_month) -%}
    {{ dbt.datediff(first_month, second_month, 'month') }}
{%- endmacro %}


{# A date moved by a number of days or months, kept a date (DuckDB returns a timestamp). #}
{% macro add_days(days, date_expression) -%}
    cast({{ dbt.dateadd('day', days, date_expression) }} as date)
{%- endmacro %}

{% macro add_months(months, date_expression) -%}
    cast({{ dbt.dateadd('month', months, date_expression) }} as date)
{%- endmacro %}
