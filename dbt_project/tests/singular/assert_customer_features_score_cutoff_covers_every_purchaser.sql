{{ config(meta={'dagster': {'ref': {'name': 'customer_features'}}}) }}

-- Every customer with an order up to as_of has a score row (contract: everyone gets scored).
select customers.customer_id
from {{ ref('int_customers_unioned') }} as customers
left join {{ ref('customer_features') }} as features
    on features.customer_id = customers.customer_id and features.cutoff_role = 'score'
where customers.is_purchaser and features.customer_id is null
