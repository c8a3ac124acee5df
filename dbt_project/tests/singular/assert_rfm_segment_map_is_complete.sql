-- Every cell of the 5 x 5 (recency_score, fm_score) grid maps to exactly one segment,
-- and all 11 named segments are used. Returns one row per problem.
with

cells as (

    select recency_score, fm_score, rfm_segment from {{ ref('rfm_segment_map') }}

),

scores as (

    select 1 as score union all select 2 union all select 3 union all select 4 union all select 5

),

missing_cells as (

    select
        r.score as recency_score,
        f.score as fm_score,
        'cell missing from rfm_segment_map' as problem

    from scores as r
    cross join scores as f
    left join cells
        on cells.recency_score = r.score
        and cells.fm_score = f.score
    where cells.rfm_segment is null

),

segment_count as (

    select
        cast(null as integer) as recency_score,
        cast(null as integer) as fm_score,
        'expected 11 distinct segments' as problem

    from cells
    having count(distinct rfm_segment) <> 11

)

select * from missing_cells
union all
select * from segment_count
