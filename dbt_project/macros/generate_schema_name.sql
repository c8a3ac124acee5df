{#
    Use a model's custom schema as is (`marts.customers`, not `main_marts.customers`), so
    analysts query stable names: staging, intermediate, marts, reference.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
