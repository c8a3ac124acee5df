{#
    Customers with at least one order, bucketed by how much support they needed and how
    satisfied they were, with their value and retention. Without a support_tickets
    delivery every customer falls in `0 tickets` / `no rating`.
#}
with

customers as (

    select * from {{ ref('customers') }}
    where is_purchaser

),

bucketed as (

    select
        *,
        case
            when tickets = 0 then '0'
            when tickets = 1 then '1'
            when tickets <= 3 then '2-3'
            else '4+'
        end as ticket_bucket,
        case
            when tickets = 0 then 0
            when tickets = 1 then 1
            when tickets <= 3 then 2
            else 3
        end as ticket_bucket_order,
        case
            when mean_csat is null then 'no rating'
            when mean_csat < 2.5 then 'low (1-2)'
            when mean_csat < 3.5 then 'neutral (3)'
            else 'high (4-5)'
        end as csat_bucket,
        case
            when mean_csat is null then 0
            when mean_csat < 2.5 then 1
            when mean_csat < 3.5 then 2
            else 3
        end as csat_bucket_order

    from customers

),

final as (

    select
        ticket_bucket,
        csat_bucket,
        min(ticket_bucket_order) as ticket_bucket_order,
        min(csat_bucket_order) as csat_bucket_order,
        count(*) as customers,
        {{ safe_divide('cast(count(*) as double)', 'sum(count(*)) over ()') }} as share_of_customers,
        sum(tickets) as tickets,
        avg(cast(orders as double)) as orders_per_customer,
        avg(net_revenue) as net_revenue_per_customer,
        avg(margin) as margin_per_customer,
        avg(support_cost) as support_cost_per_customer,
        avg(margin_after_support) as margin_after_support_per_customer,
        {{ share_where('orders >= 2') }} as repeat_rate,
        {{ share_where('not coalesce(is_churned, false)') }} as retention_rate

    from bucketed
    group by ticket_bucket, csat_bucket

)

select * from final
