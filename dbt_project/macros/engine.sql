{#
    What differs between the engines (profiles.yml: `duckdb`, `spark`, `spark_thrift`),
    behind adapter.dispatch, so that every model reads the same on both. A model never
    tests `target.type` itself: it calls one of these, or one of dbt's cross-database
    macros (dbt.datediff, dbt.dateadd, dbt.date_trunc, dbt.generate_series, dbt.type_*).
#}


{#
    The raw sources, read where the lake is.

    DuckDB reads each source's `external_location` (`read_parquet(...)` in
    _raw__sources.yml) at query time: nothing to do. Spark has no such thing, so before
    every run (on-run-start, dbt_project.yml) this makes each source of `raw` a view over
    `<lake>/raw/<source>/*.parquet`, named as dbt names the source (`raw.orders`, ...).
    A view, not a table: it holds no copy and no cached file list, so a run always sees
    the lake's current files; its location is a path or an object-store URI
    (LTV_SPARK_LAKE_URI, the `spark_lake_uri` setting, default the lake_dir).
    Renders no SQL of its own: the statements run here, one at a time.
#}
{% macro register_raw_sources() -%}
    {{ return(adapter.dispatch('register_raw_sources')()) }}
{%- endmacro %}

{% macro default__register_raw_sources() -%}
{%- endmacro %}

{% macro spark__register_raw_sources() -%}
    {%- if execute -%}
        {%- set lake = env_var('LTV_SPARK_LAKE_URI', env_var('LTV_LAKE_DIR', '')).rstrip('/') -%}
        {%- if not lake -%}
            {{ exceptions.raise_compiler_error("LTV_SPARK_LAKE_URI (or LTV_LAKE_DIR) is not set: where is the lake?") }}
        {%- endif -%}
        {%- set schemas = [] -%}
        {%- for node in graph.sources.values() if node.source_name == 'raw' -%}
            {%- if node.schema not in schemas -%}
                {%- do run_query('create schema if not exists ' ~ adapter.quote(node.schema)) -%}
                {%- do schemas.append(node.schema) -%}
            {%- endif -%}
            {%- do run_query(
                'create or replace view ' ~ adapter.quote(node.schema) ~ '.' ~ adapter.quote(node.identifier)
                ~ ' as select * from parquet.`' ~ lake ~ '/raw/' ~ node.identifier ~ '/*.parquet`'
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}


{#
    The type of the lake's timestamps: UTC wall-clock time without a zone (the data
    contract, docs/contract.md, stores them naive). DuckDB's `timestamp` is exactly that; Spark's `timestamp` is an
    instant shown in the session's zone, its `timestamp_ntz` is the naive one. Keeping
    them naive on Spark too makes both engines write the same Parquet type, so whatever
    reads the marts reads either engine's output alike.
#}
{% macro utc_timestamp_type() -%}
    {{ return(adapter.dispatch('utc_timestamp_type')()) }}
{%- endmacro %}

{% macro default__utc_timestamp_type() -%}
    {{ dbt.type_timestamp() }}
{%- endmacro %}

{% macro spark__utc_timestamp_type() -%}
    timestamp_ntz
{%- endmacro %}
