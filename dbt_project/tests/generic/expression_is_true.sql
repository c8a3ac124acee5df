{#
    Fails with the rows for which `expression` is not true (a row-level invariant, in the
    manner of dbt_utils.expression_is_true, kept here so the project needs no package
    download).
#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
