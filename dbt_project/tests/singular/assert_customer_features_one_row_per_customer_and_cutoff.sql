-- customer_features has one row per (customer_id, cutoff_role): returns the duplicates.
select customer_id, cutoff_role, count(*) as rows_per_key
from {{ ref('customer_features') }}
group by customer_id, cutoff_role
having count(*) > 1
