"""What training XGBoost on a bounded sample of customers costs in back-test quality.

    .venv/bin/python benchmarks/sample_size_effect.py                       # 600,000 customers
    .venv/bin/python benchmarks/sample_size_effect.py --customers 50000 --sizes 5000 20000 all
    .venv/bin/python benchmarks/sample_size_effect.py --keep /tmp/ss        # keep (and reuse) the business

The pipeline trains its XGBoost models (two-part LTV, churn) on at most `sample_size`
labelled customers, chosen by a stable hash of `customer_id` (prediction/boosted/sample.py,
the `sample_size` argument of `train_and_backtest`, 200,000 by default), so that training
memory and time stay flat however large the base grows. This script measures what that
bound costs: one synthetic business (the generator, the real ingest, the dbt features on
DuckDB), then the pipeline's own training step, `train_and_backtest`, once per sample
size. Every size is back-tested on the same held-out customers (out of time: trained on
the older cutoff, evaluated on every customer at `as_of - horizon`), so only the sample
differs. Per size: normalised Gini, Spearman, total error (% of actual margin) of the LTV
model, ROC-AUC and Brier of the churn model, and the wall and CPU seconds of the back-test
fit (both boosters; `prediction/training.py::_fit_boosted`). BG/NBD + Gamma-Gamma (no
sample: grouped sufficient statistics) is printed once as the reference, with the champion
the rule picks at each size.

Why 600,000 customers by default: the generator's history is 2.75 years, so an out-of-time
back-test trains at `as_of - 2 x horizon` on the customers acquired in the first nine
months, about a fifth of the base (112,000 here): enough for samples up to 100,000 and
"all" beyond them.

Replaces benchmarks/results/sample_size.json and .md (the one current result; git keeps
the earlier ones).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
# XGBoost's OpenMP threads spin-wait by default; on shared cores that costs several times
# the fit (as in tests/conftest.py). Must be set before xgboost loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import polars as pl  # noqa: E402

from ltv_pipeline.core.settings import Settings, load_settings  # noqa: E402

LTV_METRICS = ("normalized_gini", "spearman", "total_error_pct", "decile_mape_pct")
CHURN_METRICS = ("roc_auc", "brier")


def build_features(root: Path, n_customers: int, seed: int) -> Settings:
    """Generate, ingest and build `features.customer_features` on DuckDB under `root` (reused if there)."""
    from ltv_pipeline.ingest.loader import ingest_source
    from ltv_pipeline.ingest.sources import SPECS
    from ltv_pipeline.marts.runner import run_dbt
    from ltv_pipeline.synthetic import generate_business

    settings = load_settings(env={}, cwd=root, overrides={
        "landing_dir": root / "landing", "lake_dir": root / "lake", "warehouse": root / "warehouse.duckdb", "mode": "demo",
    })
    done = root / f"features_{n_customers}_{seed}.done"
    if done.exists():
        print(f"reusing the business and features in {root}")
        return settings
    t0 = time.perf_counter()
    generate_business(root / "landing", n_customers=n_customers, seed=seed)
    t1 = time.perf_counter()
    for source in SPECS:
        ingest_source(settings, source)
    t2 = time.perf_counter()
    run_dbt(settings, ["build", "--select", "+customer_features", "--resource-type", "model", "--resource-type", "seed"])
    t3 = time.perf_counter()
    print(f"business of {n_customers:,} customers: generated {t1 - t0:.0f} s, ingested {t2 - t1:.0f} s, features {t3 - t2:.0f} s")
    done.touch()
    return settings


def backtest(features: pl.DataFrame, settings: Settings, as_of: date, sample_size: int) -> dict:
    """The pipeline's training step with one sample size: its back-test figures and fit times."""
    from ltv_pipeline.core.timing import spans_since
    from ltv_pipeline.prediction.training import BTYD, XGBOOST, train_and_backtest

    started, wall, cpu = time.time(), time.perf_counter(), time.process_time()
    models = train_and_backtest(
        features, as_of=as_of, horizon_days=settings.horizon_days,
        annual_discount_rate=settings.annual_discount_rate, sample_size=sample_size,
    )
    step_wall, step_cpu = time.perf_counter() - wall, time.process_time() - cpu
    fits = [s for s in spans_since(started) if s.name in ("xgboost_ltv_fit", "xgboost_churn_fit")]
    backtest_fits = fits[:2]  # the back-test's pair; a second pair is the production refit
    table = models.evaluation

    def figures(model: str, target: str, metrics: tuple[str, ...]) -> dict[str, float]:
        rows = table.filter((pl.col("model") == model) & (pl.col("target") == target))
        values = dict(rows.select("metric", "value").iter_rows())
        return {m: values.get(m, float("nan")) for m in metrics}

    return {
        "evaluation": models.evaluation_kind,
        "xgboost_ltv": figures(XGBOOST, "ltv", LTV_METRICS),
        "xgboost_churn": figures(XGBOOST, "churn", CHURN_METRICS),
        "btyd_ltv": figures(BTYD, "ltv", LTV_METRICS),
        "btyd_churn": figures(BTYD, "churn", CHURN_METRICS),
        "champions": models.champions,
        "fit_wall_s": sum(s.seconds for s in backtest_fits),
        "fit_cpu_s": sum(s.cpu_seconds for s in backtest_fits),
        "step_wall_s": step_wall,
        "step_cpu_s": step_cpu,
        "n_evaluated": int(figures(XGBOOST, "ltv", ("n_customers",))["n_customers"]),
    }


def markdown(meta: dict, rows: list[dict]) -> str:
    lines = [
        f"# Sample size vs back-test ({meta['date']})",
        "",
        f"Business: {meta['customers']:,} customers (seed {meta['seed']}), as_of {meta['as_of']}, "
        f"{meta['train_customers']:,} labelled customers at the training cutoff, "
        f"{meta['evaluated_customers']:,} evaluated ({meta['evaluation']}). {meta['cores']} cores, "
        f"load average {meta['load_before']:.1f} before.",
        "",
        "| sample | XGB Gini | XGB Spearman | XGB total error % | XGB decile MAPE % | churn ROC-AUC | churn Brier "
        "| fit wall s | fit CPU s | champion ltv / churn |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ltv, churn = r["xgboost_ltv"], r["xgboost_churn"]
        lines.append(
            f"| {r['label']} | {ltv['normalized_gini']:.4f} | {ltv['spearman']:.4f} | {ltv['total_error_pct']:+.2f} "
            f"| {ltv['decile_mape_pct']:.1f} | {churn['roc_auc']:.4f} | {churn['brier']:.4f} | {r['fit_wall_s']:.1f} "
            f"| {r['fit_cpu_s']:.1f} | {r['champions']['ltv']} / {r['champions']['churn']} |"
        )
    b_ltv, b_churn = rows[0]["btyd_ltv"], rows[0]["btyd_churn"]
    lines += [
        f"| BG/NBD + Gamma-Gamma (no sample) | {b_ltv['normalized_gini']:.4f} | {b_ltv['spearman']:.4f} "
        f"| {b_ltv['total_error_pct']:+.2f} | {b_ltv['decile_mape_pct']:.1f} | {b_churn['roc_auc']:.4f} | {b_churn['brier']:.4f} | | | |",
        "",
        "`fit` = the back-test's two boosters (LTV two-part and churn) on the sample; the whole training step",
        "(BTYD fits, baselines, back-test, production refit) is in the JSON as `step_wall_s`.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=600_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sizes", nargs="+", default=["10000", "25000", "50000", "100000", "all"],
                        help="sample sizes in customers; `all` = every labelled customer")
    parser.add_argument("--keep", type=Path, help="build the business here and keep it (reused when run again)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the results files")
    args = parser.parse_args()

    from ltv_pipeline.core.lake import resolve_as_of
    from ltv_pipeline.marts.warehouse import read_relation

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        settings = build_features(root, args.customers, args.seed)
        as_of = resolve_as_of(settings)
        features = read_relation(settings, "features", "customer_features")
    labelled = features.filter(pl.col("cutoff_role") == "train").height
    print(f"{features.height:,} feature rows; {labelled:,} labelled customers at the training cutoff; as_of {as_of}")

    rows = []
    print(f"{'sample':>14} {'gini':>7} {'spearman':>8} {'total err %':>11} {'ROC-AUC':>8} {'brier':>7} {'fit s':>6} {'fit cpu s':>9} {'step s':>7}  champions")
    for label in args.sizes:
        size = 10**12 if label == "all" else int(label)
        result = backtest(features, settings, as_of, size)
        result["label"] = f"all ({labelled:,})" if label == "all" else f"{min(size, labelled):,}"
        result["sample_size"] = min(size, labelled)
        rows.append(result)
        ltv, churn = result["xgboost_ltv"], result["xgboost_churn"]
        print(
            f"{result['label']:>14} {ltv['normalized_gini']:>7.4f} {ltv['spearman']:>8.4f} {ltv['total_error_pct']:>+11.2f} "
            f"{churn['roc_auc']:>8.4f} {churn['brier']:>7.4f} {result['fit_wall_s']:>6.1f} {result['fit_cpu_s']:>9.1f} "
            f"{result['step_wall_s']:>7.1f}  {result['champions']['ltv']} / {result['champions']['churn']}",
            flush=True,
        )
    b_ltv, b_churn = rows[0]["btyd_ltv"], rows[0]["btyd_churn"]
    print(f"{'BTYD':>14} {b_ltv['normalized_gini']:>7.4f} {b_ltv['spearman']:>8.4f} {b_ltv['total_error_pct']:>+11.2f} "
          f"{b_churn['roc_auc']:>8.4f} {b_churn['brier']:>7.4f}  (BG/NBD + Gamma-Gamma, no sample)")

    today = date.today().isoformat()
    meta = {
        "date": today, "customers": args.customers, "seed": args.seed, "as_of": as_of.isoformat(),
        "train_customers": labelled, "evaluated_customers": rows[0]["n_evaluated"], "evaluation": rows[0]["evaluation"],
        "cores": os.cpu_count(), "load_before": load,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / "sample_size"
    stem.with_suffix(".json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2, default=str) + "\n")
    stem.with_suffix(".md").write_text(markdown(meta, rows))
    print(f"written: {stem}.json, {stem}.md")


if __name__ == "__main__":
    sys.exit(main())
