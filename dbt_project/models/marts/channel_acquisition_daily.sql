{#
    Daily spend and newly acquired customers per acquisition channel, up to as_of: the
    history the budget allocator fits its response curves on. A customer is acquired on
    the day of their first order. Days with spend but no new customer, and days with new
    customers but no spend record, both appear (0 for the missing side).
#}
with

spend as (

    select * from {{ ref('stg_raw__marketing_spend') }}

),

customers as (

    select * from {{ ref('int_customers_unioned') }}
    where is_purchaser

),

daily_spend as (

    select spend_date as activity_date, channel, sum(spend) as spend
    from spend
    group by spend_date, channel

),

daily_new as (

    select first_order_date as activity_date, acquisition_channel as channel, count(*) as new_customers
    from customers
    group by first_order_date, acquisition_channel

),

final as (

    select
        coalesce(daily_spend.activity_date, daily_new.activity_date) as activity_date,
        coalesce(daily_spend.channel, daily_new.channel) as channel,
        coalesce(daily_spend.spend, 0) as spend,
        coalesce(daily_new.new_customers, 0) as new_customers

    from daily_spend
    full outer join daily_new
        on daily_spend.activity_date = daily_new.activity_date
        and daily_spend.channel = daily_new.channel

)

select * from final
