{# Support tickets summarised per customer (only customers with at least one ticket). #}
with

tickets as (

    select * from {{ ref('stg_raw__support_tickets') }}

),

final as (

    select
        customer_id,
        count(*) as tickets,
        count(csat) as tickets_with_csat,
        avg(cast(csat as double)) as mean_csat,
        min(created_ts) as first_ticket_ts,
        max(created_ts) as last_ticket_ts

    from tickets
    group by customer_id

)

select * from final
