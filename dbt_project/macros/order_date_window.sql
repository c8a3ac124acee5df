{#
    The days a partitioned run covers, for the daily-partitioned models (tag
    `daily_partitioned`, e.g. marts/daily_orders.sql).

    Dagster's daily partitions reach dbt as the vars `min_order_date` and `max_order_date`
    (ISO dates, both inclusive: ltv_pipeline/marts/partitions.py). Such a run replaces
    exactly those days of the table and leaves every other day as it was. Without the vars
    (`ltv run`, an analyst's `dbt build`) the model is rebuilt whole, like every other mart.
#}


{#
    dbt's `should_full_refresh` (every materialization and `is_incremental()` ask it), with
    one rule added: a daily-partitioned model (tag `daily_partitioned`) is rebuilt whole
    exactly when the run names no window of days, whatever `--full-refresh` says; with a
    window it replaces those days only. Decided here, when dbt executes, because the window
    comes from the pipeline's LTV_DBT_VARS, which parsing never reads (macros/run_vars.sql):
    a `full_refresh=...` model config is fixed at parse time.
#}
{% macro should_full_refresh() -%}
    {%- if model is not none and 'daily_partitioned' in model.get('tags', []) -%}
        {{ return(not order_date_window_is_set()) }}
    {%- endif -%}
    {{ return(dbt.should_full_refresh()) }}
{%- endmacro %}


{# True when the run names a window of days (either bound). #}
{% macro order_date_window_is_set() -%}
    {{ return(ltv_var('min_order_date') is not none or ltv_var('max_order_date') is not none) }}
{%- endmacro %}


{# A predicate on a date column: inside the window, or `1 = 1` when the run names none. #}
{% macro order_date_window(column) -%}
    {%- set bounds = [] -%}
    {%- if ltv_var('min_order_date') is not none -%}
        {%- do bounds.append(column ~ ' >= ' ~ order_date_window_literal('min_order_date')) -%}
    {%- endif -%}
    {%- if ltv_var('max_order_date') is not none -%}
        {%- do bounds.append(column ~ ' <= ' ~ order_date_window_literal('max_order_date')) -%}
    {%- endif -%}
    ({{ bounds | join(' and ') if bounds else '1 = 1' }})
{%- endmacro %}


{# A window var as a SQL date literal; anything but an ISO date fails the run with its name. #}
{% macro order_date_window_literal(name) -%}
    {%- set value = ltv_var(name) | string -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
        {{ exceptions.raise_compiler_error("dbt var `" ~ name ~ "` must be an ISO date (YYYY-MM-DD), got " ~ value) }}
    {%- endif -%}
    cast('{{ value }}' as date)
{%- endmacro %}


{#
    Pre-hook of an incremental run over a window: delete the window's days first.

    The `delete+insert` strategy alone deletes only the keys (day x channel) the new rows
    carry, so a day x channel whose every order moved to another day, or was forgotten,
    would keep its old row. Deleting the whole window, in the same transaction as the
    insert, makes a partition's rows exactly what the orders of its days say, also when that
    is no row at all.
#}
{% macro delete_order_date_window(column='order_date') -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ order_date_window(column) }}
    {%- endif -%}
{%- endmacro %}


{#
    The materialization of a daily-partitioned model on this engine. DuckDB: `incremental`
    (delete+insert of the window's days). Spark with plain Parquet tables has no delete,
    and `insert_overwrite` only replaces the days the new rows hold (a day left with no
    order would keep its old rows): there the model is a `table`, rebuilt whole on every
    run, windowed or not, which is always correct, only not incremental.
#}
{% macro daily_partitioned_materialization() -%}
    {{ return(adapter.dispatch('daily_partitioned_materialization')()) }}
{%- endmacro %}

{% macro default__daily_partitioned_materialization() -%}
    {{ return('table') }}
{%- endmacro %}

{% macro duckdb__daily_partitioned_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}
