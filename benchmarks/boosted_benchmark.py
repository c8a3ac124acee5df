"""Speed and memory of the XGBoost models: training on a bounded sample, chunked scoring.

    .venv/bin/python benchmarks/boosted_benchmark.py [--train-rows 200000] [--score 100000 1000000]

Each phase runs in a fresh process, so its peak RSS is its own. Scoring reads the feature
table lazily from Parquet, chunk by chunk, as the scoring asset does from the lake. The
`compare` phase prints the held-out figures behind the choice of the default LTV method
(two-part vs Tweedie) next to the baselines. Wall and CPU seconds are both printed: on a
shared machine the wall time moves with the other load, reported with the load average.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "unit"))  # the feature simulator lives with the tests

import polars as pl  # noqa: E402
from ltv_feature_sim import FEATURES, simulate_features  # noqa: E402

from ltv_pipeline.prediction.boosted import (  # noqa: E402
    BoostConfig,
    BoostedModel,
    bounded_sample,
    predict_churn,
    predict_ltv,
    train_churn_model,
    train_ltv_model,
)
from ltv_pipeline.prediction.evaluation import (  # noqa: E402
    churn_metrics,
    classic_formula_ltv,
    last_period_ltv,
    ltv_metrics,
    recency_churn_score,
)

AS_OF = date(2025, 1, 1)
HORIZON = 365


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def phase_train(workdir: str, train_rows: int, nthread: int) -> dict[str, float]:
    """Sample `train_rows` customers by hash from a larger base, train both models, save them."""
    base = simulate_features(train_rows * 5 // 4, seed=1)
    sample, t_sample, _ = _timed(partial(bounded_sample, base, train_rows, seed=0))
    del base  # only the sample is kept, as in the pipeline
    config = BoostConfig(nthread=nthread)
    ltv, t_ltv, c_ltv = _timed(
        lambda: train_ltv_model(sample, FEATURES, horizon_days=HORIZON, as_of=AS_OF, config=config)
    )
    churn, t_churn, c_churn = _timed(
        lambda: train_churn_model(sample, FEATURES, horizon_days=HORIZON, as_of=AS_OF, config=config)
    )
    Path(workdir, "ltv.model").write_bytes(ltv.to_bytes())
    Path(workdir, "churn.model").write_bytes(churn.to_bytes())
    rounds = {k: v for k, v in {**ltv.metrics, **churn.metrics}.items() if k.startswith("rounds_")}
    return {
        "rows": sample.height,
        "sample_s": t_sample,
        "ltv_wall_s": t_ltv,
        "ltv_cpu_s": c_ltv,
        "churn_wall_s": t_churn,
        "churn_cpu_s": c_churn,
        **rounds,
        "model_kb": len(ltv.to_bytes()) / 1024,
        "peak_rss_mb": _peak_rss_mb(),
    }


def phase_write(workdir: str, n_customers: int) -> dict[str, float]:
    simulate_features(n_customers, seed=3).write_parquet(
        Path(workdir, f"features_{n_customers}.parquet"), row_group_size=100_000
    )
    return {}


def phase_score(workdir: str, n_customers: int, chunk_rows: int) -> dict[str, float]:
    """Score LTV (with interval) and churn for every customer of the Parquet feature table."""
    ltv = BoostedModel.from_bytes(Path(workdir, "ltv.model").read_bytes())
    churn = BoostedModel.from_bytes(Path(workdir, "churn.model").read_bytes())
    features = pl.scan_parquet(Path(workdir, f"features_{n_customers}.parquet"))
    scores, t_ltv, c_ltv = _timed(lambda: predict_ltv(ltv, features, chunk_rows=chunk_rows))
    churned, t_churn, c_churn = _timed(lambda: predict_churn(churn, features, chunk_rows=chunk_rows))
    assert scores.height == churned.height == n_customers
    return {
        "ltv_wall_s": t_ltv,
        "ltv_cpu_s": c_ltv,
        "churn_wall_s": t_churn,
        "churn_cpu_s": c_churn,
        "total_wall_s": t_ltv + t_churn,
        "peak_rss_mb": _peak_rss_mb(),
    }


def phase_compare(train_rows: int, nthread: int) -> dict[str, dict[str, float]]:
    """Held-out (new customers) figures of both LTV methods, the churn model and the baselines."""
    train, test = simulate_features(train_rows, seed=1), simulate_features(100_000, seed=2)
    config = BoostConfig(nthread=nthread)
    actual, churned = test["label_margin"], test["label_churn"]
    rows = {}
    for method in ("two_part", "tweedie"):
        model = train_ltv_model(train, FEATURES, horizon_days=HORIZON, as_of=AS_OF, method=method, config=config)
        scores = predict_ltv(model, test)
        rows[f"xgb_ltv[{method}]"] = ltv_metrics(
            actual, scores["predicted_ltv"], scores["ltv_lower"], scores["ltv_upper"]
        )
    rows["baseline_classic_formula"] = ltv_metrics(actual, classic_formula_ltv(test, HORIZON, 0.10))
    rows["baseline_last_period"] = ltv_metrics(actual, last_period_ltv(test, HORIZON, 0.10))
    churn = train_churn_model(train, FEATURES, horizon_days=HORIZON, as_of=AS_OF, config=config)
    rows["xgb_churn"] = churn_metrics(churned, predict_churn(churn, test)["churn_probability"])
    rows["baseline_recency"] = churn_metrics(churned, recency_churn_score(test, HORIZON))
    return rows


def _run(fn: Callable[..., Any], *args: Any) -> Any:
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def _show(title: str, figures: dict[str, float]) -> None:
    print(f"{title:<26}" + "  ".join(f"{k}={v:,.3f}" for k, v in figures.items()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-rows", type=int, default=200_000)
    parser.add_argument("--score", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--chunk-rows", type=int, default=200_000)
    parser.add_argument("--nthread", type=int, default=2)
    parser.add_argument("--skip-compare", action="store_true")
    args = parser.parse_args()
    print(f"cpus={os.cpu_count()} nthread={args.nthread} load_avg={os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory() as workdir:
        _show(f"train {args.train_rows:,}", _run(phase_train, workdir, args.train_rows, args.nthread))
        for n in args.score:
            _run(phase_write, workdir, n)
            _show(f"score {n:,}", _run(phase_score, workdir, n, args.chunk_rows))
    if not args.skip_compare:
        for name, metrics in _run(phase_compare, args.train_rows, args.nthread).items():
            _show(name, {k: v for k, v in metrics.items() if k != "n_customers"})
    print(f"load_avg_end={os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
