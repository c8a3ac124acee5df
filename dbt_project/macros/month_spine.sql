{#
    Month numbers 0..max_months - 1 as `month_offset`.
    1,200 months = 100 years of history: plenty, and a few hundred rows to cross-join.

    Engine-neutral through dbt.generate_series (a cross join of powers of two), except on
    Spark, whose optimiser takes seconds over that eleven-way cross join, while its
    built-in `range` table function yields the same numbers at once.
#}
{% macro month_offsets(max_months=1200) -%}
    {{ return(adapter.dispatch('month_offsets')(max_months)) }}
{%- endmacro %}

{% macro default__month_offsets(max_months) -%}
    select generated_number - 1 as month_offset
    from ({{ dbt.generate_series(max_months) }}) as numbers
{%- endmacro %}

{% macro spark__month_offsets(max_months) -%}
    select cast(id as int) as month_offset
    from range({{ max_months }})
{%- endmacro %}
