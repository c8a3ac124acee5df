"""A small subset of the accuracy benchmark on every CI run: two scenario families at 3k
customers through the whole pipeline, scored against their exact truth.

Every customer must be scored; the other floors are loose (they catch a broken
prediction or allocation, not a small loss of accuracy): the full table comes from
`benchmarks/accuracy_benchmark.py`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest

from ltv_pipeline.commands.run import run_pipeline
from ltv_pipeline.core import layout
from ltv_pipeline.core.settings import load_settings
from ltv_pipeline.scenarios.scoring import score_customers

scenarios = pytest.importorskip("ltv_pipeline.scenarios")
if not hasattr(scenarios, "generate_scenario"):
    pytest.skip("the scenario suite (ltv_pipeline.scenarios.generate_scenario) is not in this tree", allow_module_level=True)

pytestmark = pytest.mark.xdist_group("accuracy_subset")

CUSTOMERS = 3_000
FAMILIES = ("stationary_btyd", "hidden_dissatisfaction")

FLOORS = {"ltv_spearman": 0.45, "churn_auc": 0.75, "interval_coverage": 0.60}
"""Lowest acceptable model figures, well below what the pipeline reaches on these families."""
COVERAGE_CEILING = 0.99
"""Intervals that hold nearly everyone are too wide to say anything."""
TOTAL_ERROR_BOUND_PCT = 35.0
"""No published total (LTV, revenue, orders) may be off by more than this."""
ALLOCATION_GAIN_FLOOR = 0.25
"""The recommended budget must capture at least this share of the achievable gain."""


@pytest.fixture(scope="module", params=[f for f in FAMILIES if f in scenarios.FAMILIES])
def scored(request, tmp_path_factory) -> tuple[str, dict[str, dict[str, float]], float]:
    family = request.param
    root = tmp_path_factory.mktemp(family)
    scenarios.generate_scenario(family, CUSTOMERS, 1, root)
    scenario = json.loads((root / "truth" / "scenario.json").read_text())
    overrides = {
        "landing_dir": root / "landing", "lake_dir": root / "lake", "warehouse": root / "warehouse.duckdb",
        "mode": "demo", "as_of": scenario["as_of"], "horizon_days": scenario["horizon_days"],
        "annual_discount_rate": scenario["annual_discount_rate"],
    }
    if scenario.get("margin_rate") is not None:
        overrides["margin_rate"] = scenario["margin_rate"]
    settings = load_settings(env={}, cwd=root, overrides=overrides)
    outcome = run_pipeline(settings, log_level="WARNING")
    assert outcome.rejected.is_empty()
    published: Path = layout.published_dir(settings)
    measures = score_customers(pl.read_parquet(published / "customer_scores.parquet"),
                               pl.read_parquet(root / "truth" / "customers.parquet"))
    plan = pl.read_parquet(published / "channel_budget_allocation.parquet")
    gain = scenarios.allocation_gain(root / "truth", dict(zip(plan["channel"], plan["recommended_spend"], strict=True)))
    return family, measures, float(gain)


def test_every_customer_with_an_order_is_scored(scored):
    _, measures, _ = scored
    assert measures["model"]["scored_fraction"] == 1.0


def test_predictions_rank_and_total_above_loose_floors(scored):
    family, measures, _ = scored
    model, oracle = measures["model"], measures["oracle"]
    for name, floor in FLOORS.items():
        assert model[name] >= floor, f"{family}: {name} {model[name]:.3f} < {floor} (oracle {oracle.get(name, math.nan):.3f})"
    assert model["interval_coverage"] <= COVERAGE_CEILING, f"{family}: coverage {model['interval_coverage']:.3f}"
    for name in ("ltv_total_error_pct", "revenue_total_error_pct", "orders_total_error_pct"):
        assert abs(model[name]) <= TOTAL_ERROR_BOUND_PCT, f"{family}: {name} {model[name]:+.1f}%"


def test_the_oracle_outranks_the_model_so_the_truth_is_not_leaked(scored):
    family, measures, _ = scored
    assert measures["oracle"]["ltv_spearman"] > measures["model"]["ltv_spearman"], family


def test_the_budget_plan_captures_part_of_the_achievable_gain(scored):
    family, _, gain = scored
    assert math.isnan(gain) or gain >= ALLOCATION_GAIN_FLOOR, f"{family}: allocation gain {gain:.2f}"
