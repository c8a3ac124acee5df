{#
    Daily builds that only redo the customers whose rows can have changed.

    The order-level models and the per-customer order aggregates are the costly part of a
    build (ten million orders at a million customers), and a day of deliveries touches a
    percent of the customers. On DuckDB they are `incremental` models keyed by
    `customer_id`: a daily build deletes and re-inserts the rows of the changed customers
    only. What is "changed" comes from two vars that the pipeline passes
    (ltv_pipeline/marts/incremental.py) from the state of the last successful build:

      changed_since    the latest `_loaded_at` of the raw tables that build read
      previous_as_of   that build's as_of

    A customer has changed when one of their orders or their customer record was loaded
    after `changed_since` (new orders, corrections, re-delivered customers) or entered the
    as_of window since `previous_as_of`. The pipeline passes `--full-refresh` instead when
    anything else changed (another var, the project's code, an earlier as_of, no state),
    and an incremental model built without the two vars recomputes every customer, so a
    hand-run `dbt build` is never wrong, only slower.

    On Spark the models are plain tables (dbt-spark's Parquet tables have no delete+insert):
    a cluster rebuilds them whole.
#}


{#- The materialization of the customer-keyed incremental models on this engine. -#}
{% macro customer_incremental_materialization() -%}
    {{ return(adapter.dispatch('customer_incremental_materialization')()) }}
{%- endmacro %}

{% macro default__customer_incremental_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__customer_incremental_materialization() -%}
    {{ return('table') }}
{%- endmacro %}


{#- True when this build may restrict a model to the changed customers. -#}
{% macro incremental_window_known() -%}
    {{ return(ltv_var('changed_since') is not none and ltv_var('previous_as_of') is not none and is_incremental()) }}
{%- endmacro %}


{#
    `and <column> in (the changed customers)` in an incremental build with a known window,
    nothing otherwise. `churn_shift_days`: also the customers with an order exactly that
    many days before a day of the window (their churn event falls in it). The changed
    customers come from `stg_raw__customer_changes`, which keeps rows dated after as_of (a
    correction re-dating an order or a signup past as_of still redoes its customer).
#}
{% macro only_changed_customers(column='customer_id', churn_shift_days=none) -%}
    {%- if incremental_window_known() %}
    and {{ column }} in ({{ changed_customer_ids(ref('stg_raw__customer_changes'), churn_shift_days) }}
    )
    {%- endif -%}
{%- endmacro %}


{#- The window vars as SQL constants: the latest load time the last build read, and its as_of. -#}
{% macro changed_since() -%}
    cast('{{ ltv_var('changed_since') }}' as {{ utc_timestamp_type() }})
{%- endmacro %}

{% macro previous_as_of() -%}
    cast('{{ ltv_var('previous_as_of') }}' as date)
{%- endmacro %}


{#
    The ids of the customers changed since the last build, from `changes`
    (stg_raw__customer_changes): one `select` per reason, each filtering on one column
    against a constant. DuckDB pushes such a filter into the Parquet scan and skips the row
    groups whose statistics rule it out (the raw orders are stored by order time, and the
    rows of one load share their `_loaded_at`), so the day's changes are found without
    reading the history; the same conditions joined by `or` would read every raw order, in
    every model that asks.
#}
{% macro changed_customer_ids(changes, churn_shift_days=none) -%}
    {%- set since = changed_since() -%}
    {%- set previous = previous_as_of() %}
        select customer_id from {{ changes }} where loaded_at > {{ since }}
        union all
        select customer_id from {{ changes }} where row_date > {{ previous }}
        {%- if churn_shift_days is not none %}
        {%- set shift = -1 * (churn_shift_days | int) %}
        union all
        select customer_id from {{ changes }}
        where source_table = 'orders'
            and row_date > {{ add_days(shift, previous) }}
            and row_date <= {{ add_days(shift, as_of_date()) }}
        {%- endif %}
{%- endmacro %}


{#
    The data tests of a model whose config says `meta: {tested_rows: changed_customers}` (the
    customer-keyed incremental models that redo exactly `only_changed_customers()`) check, in
    a build that redid only the changed customers, only those customers' rows. The other
    rows are the ones the last successful build tested, untouched since: delete+insert by
    `customer_id` replaces every row of a changed customer and no other, and a correction
    that moves an order to another customer makes the pipeline refresh everything
    (ltv_pipeline/marts/incremental.py). A full refresh, a build without the window vars, and
    every other model's tests check every row. So a daily build tests the day's changed
    customers' orders instead of grouping every order id, and the models after `orders`
    do not wait for that.

    This is dbt's own `get_where_subquery` (how a test applies its `where` config) with that
    scope added. The changed-customer view is found in the graph: a test cannot `ref` a
    model its own SQL does not name.
#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- if tests_changed_customers_only() -%}
        {%- set changes = graph.nodes.values() | selectattr('name', 'equalto', 'stg_raw__customer_changes') | first -%}
        {%- set changes_relation = api.Relation.create(database=changes.database, schema=changes.schema, identifier=changes.alias) -%}
        {%- do conditions.append('customer_id in (' ~ changed_customer_ids(changes_relation) ~ '\n    )') -%}
    {%- endif -%}
    {#- The filter never starts with a parenthesis: Spark reads `from t where (x)` as table t
        aliased `where` with a column list. -#}
    {%- if config.get('where') -%}
        {%- do conditions.append('(' ~ config.get('where') ~ ')' if conditions else config.get('where')) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}


{#- True when the test being compiled may check only the changed customers' rows (above). -#}
{% macro tests_changed_customers_only() -%}
    {%- set attached = model.get('attached_node') if execute and model is mapping else none -%}
    {%- set tested = graph.nodes.get(attached) if attached else none -%}
    {%- set scoped = tested is not none and tested.config.meta.get('tested_rows') == 'changed_customers' -%}
    {%- set window_known = ltv_var('changed_since') is not none and ltv_var('previous_as_of') is not none -%}
    {{ return(scoped and window_known and not flags.FULL_REFRESH and customer_incremental_materialization() == 'incremental') }}
{%- endmacro %}
