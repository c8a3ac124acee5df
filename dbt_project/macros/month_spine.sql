{#
    Month numbers 0..max_months - 1 as `month_offset`, engine-neutral (dbt.generate_series).
    1,200 months = 100 years of history: plenty, and a few hundred rows to cross-join.
#}
{% macro month_offsets(max_months=1200) -%}
    select generated_number - 1 as month_offset
    from ({{ dbt.generate_series(max_months) }}) as numbers
{%- endmacro %}
