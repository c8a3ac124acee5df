{#
    The pipeline's values (as_of, horizon_days, margin_rate, ...): every model and macro
    reads them through `ltv_var(name)`, never `var(name)`.

    Where a value comes from, first match wins:

      1. `var(name)`: a `--vars` given by hand (`dbt build --vars '{as_of: 2025-12-31}'`)
         or a unit test's `overrides: vars:`.
      2. The JSON object in the environment variable `LTV_DBT_VARS`, read only when dbt
         executes (`execute`), never while it parses. The pipeline passes its values this
         way (`Settings.dbt_vars(as_of)` via ltv_pipeline/marts/resources.py `dbt_vars_env`).
      3. The defaults below (a bare `dbt build` by an analyst), or none.

    Why not `--vars`: dbt re-parses the whole project whenever the command line's vars differ
    from those of its saved parse (`partial_parse.msgpack`), and every run has another as_of,
    so every invocation paid a full parse. An environment variable read while parsing would
    be recorded in the saved parse too, and the files that read it re-parsed when it
    changes; read at execution only, it is invisible to parsing. A value therefore must not
    decide anything parsing sees (a `ref`, a `config`): at parse time `ltv_var` gives the
    `--vars` value or the default.
#}
{% macro ltv_var(name) -%}
    {%- set defaults = {
        'horizon_days': 365,
        'margin_rate': 1.0,
        'annual_discount_rate': 0.10,
        'support_cost_per_ticket': 0,
        'churn_days': 180,
        'feature_history': true,
    } -%}
    {#- as_of, changed_since, previous_as_of, min_order_date, max_order_date: no default (none) -#}
    {%- set given = var(name, none) -%}
    {%- if given is not none -%}
        {{ return(given) }}
    {%- endif -%}
    {%- if execute -%}
        {%- set passed = ltv_passed_vars() -%}
        {%- if name in passed and passed[name] is not none -%}
            {{ return(passed[name]) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(defaults.get(name)) }}
{%- endmacro %}


{#- The object in LTV_DBT_VARS (empty when unset); anything but a JSON object fails the run. -#}
{% macro ltv_passed_vars() -%}
    {%- set raw = env_var('LTV_DBT_VARS', '{}') -%}
    {%- set passed = fromjson(raw) -%}
    {%- if passed is not mapping -%}
        {{ exceptions.raise_compiler_error("LTV_DBT_VARS must be a JSON object of dbt vars, got: " ~ raw) }}
    {%- endif -%}
    {{ return(passed) }}
{%- endmacro %}
