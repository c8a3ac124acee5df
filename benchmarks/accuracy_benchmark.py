"""Accuracy of the published predictions and budget moves on businesses unlike our own.

For every scenario family x size x seed x history shape: generate the business with its
exact truth (`ltv_pipeline.scenarios`), run `ltv run` on its landing zone in a separate
process with a lake of its own, and score the published `customer_scores` and
`channel_budget_allocation` against the truth: model vs oracle vs observable ceiling,
with the targets' verdicts. CDNOW sample and master: published `predicted_orders` over
the literature's holdout against a plain BG/NBD fitted independently.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/accuracy_benchmark.py \
        [--families stationary_btyd,seasonal_decay] [--sizes 20000,100000] [--seeds 2] \
        [--histories long,short] [--skip-cdnow] [--out benchmarks/results/accuracy.md]

Writes one markdown table (and the raw figures as JSON beside it).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from accuracy_misses import explained  # a module beside this script

from ltv_pipeline import scenarios
from ltv_pipeline.core.project_files import PROJECT_ROOT
from ltv_pipeline.core.settings import Settings
from ltv_pipeline.scenarios import cdnow, reference_bgnbd
from ltv_pipeline.scenarios.scoring import (
    mean_absolute_error,
    pearson,
    score_customers,
    total_error,
)
from ltv_pipeline.scenarios.targets import judge

MEASURES: tuple[tuple[str, str], ...] = (
    ("scored_fraction", "scored fraction"),
    ("ltv_spearman", "LTV Spearman"),
    ("ltv_gini", "LTV normalised Gini"),
    ("ltv_decile_mape", "LTV decile MAPE"),
    ("ltv_total_error_pct", "`predicted_ltv` total error %"),
    ("revenue_total_error_pct", "`predicted_revenue` total error %"),
    ("orders_total_error_pct", "`predicted_orders` total error %"),
    ("churn_auc", "churn ROC-AUC"),
    ("p_alive_auc", "`p_alive` AUC vs alive"),
    ("interval_coverage", "80% interval coverage"),
    ("allocation_gain", "allocation: share of the optimum's gain"),
)


# ---- running the pipeline ------------------------------------------------------------------
def pipeline_env(root: Path, scenario: Mapping[str, Any]) -> dict[str, str]:
    """This environment without the developer's LTV_/DAGSTER_ settings, pointed at `root`,
    with the business's own discount and margin rates."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LTV_", "DAGSTER_"))}
    env.update({
        "LTV_LAKE_DIR": str(root / "lake"),
        "LTV_WAREHOUSE": str(root / "warehouse.duckdb"),
        "LTV_MODE": "demo",
        "LTV_ANNUAL_DISCOUNT_RATE": str(scenario.get("annual_discount_rate", 0.10)),
        "OMP_WAIT_POLICY": "PASSIVE",
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    })
    if scenario.get("margin_rate") is not None:
        env["LTV_MARGIN_RATE"] = str(scenario["margin_rate"])
    if scenario.get("planning_days") is not None:
        env["LTV_PLANNING_DAYS"] = str(scenario["planning_days"])
    return env


def run_pipeline(root: Path, scenario: Mapping[str, Any]) -> float:
    """`ltv run` on `root/landing` at the scenario's as_of and horizon; returns its seconds."""
    argv = [sys.executable, "-m", "ltv_pipeline.commands.cli", "run", "--landing", str(root / "landing"),
            "--as-of", str(scenario["as_of"]), "--horizon-days", str(scenario["horizon_days"]), "--log-level", "WARNING"]
    start = time.perf_counter()
    done = subprocess.run(argv, env=pipeline_env(root, scenario), cwd=root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ltv run failed in {root} ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def published(root: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(root / "lake" / "published" / f"{table}.parquet")


# ---- scenario families ---------------------------------------------------------------------
def run_scenario(family: str, customers: int, seed: int, history: str, work: Path, keep: bool) -> dict[str, Any]:
    root = work / f"{family}-{history}-{customers}-s{seed}"
    shutil.rmtree(root, ignore_errors=True)
    start = time.perf_counter()
    scenarios.generate_scenario(family, customers, seed, root, history=history)
    generate_seconds = time.perf_counter() - start
    scenario = json.loads((root / "truth" / "scenario.json").read_text())
    pipeline_seconds = run_pipeline(root, scenario)
    truth = pl.read_parquet(root / "truth" / "customers.parquet")
    measures = score_customers(published(root, "customer_scores"), truth, seed=seed)
    allocation = published(root, "channel_budget_allocation")
    recommended = dict(zip(allocation["channel"].to_list(), allocation["recommended_spend"].to_list(), strict=True))
    measures["model"]["allocation_gain"] = float(scenarios.allocation_gain(root / "truth", recommended))
    measures.setdefault("oracle", {})["allocation_gain"] = 1.0
    measures.setdefault("ceiling", {})["allocation_gain"] = float(scenarios.observable_allocation_gain(root / "truth"))
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "family": family, "history": history, "customers": customers, "seed": seed,
        "as_of": scenario["as_of"], "horizon_days": scenario["horizon_days"],
        "generate_seconds": round(generate_seconds, 1), "pipeline_seconds": round(pipeline_seconds, 1),
        "recommended_spend": recommended,
        "current_spend": dict(zip(allocation["channel"].to_list(), allocation["current_spend"].to_list(), strict=True)),
        "measures": measures,
    }


def _mean(values: Sequence[float]) -> float:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan


def aggregate(runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One group per family x history x size: every measure's mean over seeds for the model,
    oracle and ceiling, the model's per-seed values, and the verdict on the model's mean."""
    groups: dict[tuple[str, str, int], list[Mapping[str, Any]]] = defaultdict(list)
    for run in runs:
        groups[(run["family"], run["history"], run["customers"])].append(run)
    out = []
    for (family, history, customers), members in groups.items():
        means = {who: {name: _mean([m["measures"].get(who, {}).get(name, math.nan) for m in members]) for name, _ in MEASURES}
                 for who in ("model", "oracle", "ceiling")}
        rows = []
        for name, label in MEASURES:
            verdict = judge(name, means["model"][name], means, customers)
            rows.append({
                "measure": name, "label": label,
                "model": means["model"][name], "oracle": means["oracle"][name], "ceiling": means["ceiling"][name],
                "per_seed": [m["measures"]["model"].get(name, math.nan) for m in members],
                "target": verdict.target if verdict else "", "passed": verdict.passed if verdict else None,
                "miss": verdict.miss if verdict else "",
            })
        out.append({"family": family, "history": history, "customers": customers,
                    "seeds": [m["seed"] for m in members], "rows": rows})
    return sorted(out, key=lambda g: (g["family"], g["history"], g["customers"]))


# ---- CDNOW ---------------------------------------------------------------------------------
def run_cdnow(variant: str, work: Path, cache: Path, keep: bool) -> dict[str, Any]:
    """Published predicted_orders over the holdout vs a plain BG/NBD fitted here."""
    root = work / f"cdnow-{variant}"
    shutil.rmtree(root, ignore_errors=True)
    cdnow.write_cdnow(variant, root, cache)
    scenario = json.loads((root / "truth" / "scenario.json").read_text())
    seconds = run_pipeline(root, scenario)
    truth = pl.read_parquet(root / "truth" / "customers.parquet")
    scores = published(root, "customer_scores").select(pl.col("customer_id").cast(pl.String), "predicted_orders")
    joined = truth.join(scores, on="customer_id", how="left")
    reference = reference_bgnbd.fit(truth["x"].to_numpy(), truth["t_x"].to_numpy(), truth["T"].to_numpy())
    weeks = cdnow.HORIZON_DAYS / 7
    plain = reference_bgnbd.expected_transactions(reference, weeks, truth["x"].to_numpy(), truth["t_x"].to_numpy(), truth["T"].to_numpy())
    realised = truth["realised_orders"].cast(pl.Float64).to_numpy()
    predicted = joined["predicted_orders"].fill_null(math.nan).to_numpy()

    def figures(forecast: np.ndarray) -> dict[str, float]:
        return {"total_error_pct": total_error(forecast, realised), "mae": mean_absolute_error(forecast, realised),
                "corr": pearson(forecast, realised)}

    measures = score_customers(published(root, "customer_scores"), truth)["model"]
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "variant": variant, "customers": truth.height, "pipeline_seconds": round(seconds, 1),
        "scored_fraction": float(np.isfinite(predicted).mean()),
        "published": figures(predicted), "bg_nbd": figures(plain),
        "bg_nbd_parameters": dataclasses.asdict(reference),
        "published_ltv": {k: measures.get(k, math.nan) for k in ("ltv_spearman", "ltv_total_error_pct", "revenue_total_error_pct", "churn_auc")},
    }


# ---- the report ----------------------------------------------------------------------------
def _fmt(value: float, name: str = "") -> str:
    if value is None or not math.isfinite(value):
        return ""
    return f"{value:+.1f}" if name.endswith("_pct") else f"{value:.3f}"


CDNOW_FIGURES = {"total_error_pct": "total error", "mae": "MAE", "corr": "corr"}
"""The CDNOW forecast figures, each shown (and compared) at 0.01 points or 0.0001."""


def _cdnow_fmt(value: float, key: str) -> str:
    return f"{value:+.2f}" if key == "total_error_pct" else f"{value:.4f}"


def _beats(published_value: float, reference_value: float, key: str) -> bool:
    """Better than the reference at the precision shown: equal figures are no win."""
    mine, theirs = float(_cdnow_fmt(published_value, key)), float(_cdnow_fmt(reference_value, key))
    if key == "total_error_pct":
        return abs(mine) < abs(theirs)
    return mine < theirs if key == "mae" else mine > theirs


def _verdict(passed: bool | None, miss: str) -> str:
    return "" if passed is None else ("pass" if passed else f"**miss** ({miss})")


def allocation_mode() -> str:
    """Which allocation the pipeline made: its configured mode, or the only behaviour it has."""
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    if "allocation_mode" in fields:
        return f"`allocation_mode: {fields['allocation_mode'].default}` (the default)"
    return "no `allocation_mode` setting: the allocator's only behaviour (profit: money below the hurdle stays unspent)"


def summary(groups: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per family, history and size: how many targets are met, and which are not."""
    lines = ["| family | history | customers | targets met | missed |", "|---|---|---|---|---|"]
    for group in groups:
        judged = [row for row in group["rows"] if row["passed"] is not None]
        missed = ", ".join(row["label"] for row in judged if not row["passed"])
        lines.append(f"| {group['family']} | {group['history']} | {group['customers']:,} | "
                     f"{sum(row['passed'] for row in judged)} of {len(judged)} | {missed} |")
    return lines


def render(groups: Sequence[Mapping[str, Any]], cdnow_runs: Sequence[Mapping[str, Any]],
           failures: Sequence[Mapping[str, str]] = ()) -> str:
    lines = ["# Accuracy benchmark", ""]
    if groups:
        lines += [
            ("Published predictions and budget moves scored against each scenario's exact truth "
             "(`benchmarks/accuracy_benchmark.py`). Model = the mean over seeds (per-seed values in "
             "brackets); oracle = the true process given each customer's true latent state; ceiling = "
             "the same expectation from what the landing zone shows (the reference of the ranking and "
             "churn targets); for the allocation, the share of the oracle's gain the best plan gets when "
             "channels whose spend never varied are held at their current spend (the reference of the "
             f"allocation target). Allocation: {allocation_mode()}."), "",
            *summary(groups), "",
            "| family | history | customers | measure | model | oracle | ceiling | target | verdict |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for group in groups:
            head = f"{group['family']} | {group['history']} | {group['customers']:,}"
            for row in group["rows"]:
                seeds = ", ".join(_fmt(v, row["measure"]) for v in row["per_seed"]) if len(row["per_seed"]) > 1 else ""
                model = _fmt(row["model"], row["measure"]) + (f" ({seeds})" if seeds and _fmt(row["model"]) else "")
                lines.append(
                    f"| {head} | {row['label']} | {model} | {_fmt(row['oracle'], row['measure'])} | "
                    f"{_fmt(row['ceiling'], row['measure'])} | {row['target']} | {_verdict(row['passed'], row['miss'])} |"
                )
        lines.append("")
        lines += explained(groups)
    if cdnow_runs:
        lines += [
            "## CDNOW", "",
            ("Calibration to 1997-09-30, holdout 1997-10-01 .. 1998-06-30 (273 days); transactions are "
             "purchase days. Target: the published `predicted_orders` beat a plain BG/NBD (fitted "
             "independently by the benchmark) on total error, MAE and correlation."), "",
            "| data | customers | forecast | total error % | MAE | corr | verdict |",
            "|---|---|---|---|---|---|---|",
        ]
        for run in cdnow_runs:
            pub, ref = run["published"], run["bg_nbd"]
            shown = {key: (_cdnow_fmt(pub[key], key), _cdnow_fmt(ref[key], key)) for key in CDNOW_FIGURES}
            missed = [key for key in CDNOW_FIGURES if not _beats(pub[key], ref[key], key)]
            verdict = "pass" if not missed else "**miss** (" + "; ".join(
                f"{CDNOW_FIGURES[key]} {shown[key][0]} vs {shown[key][1]}" for key in missed) + ")"
            lines.append(f"| {run['variant']} | {run['customers']:,} | published `predicted_orders` | "
                         + " | ".join(shown[key][0] for key in CDNOW_FIGURES) + f" | {verdict} |")
            p = run["bg_nbd_parameters"]
            lines.append(f"| {run['variant']} | {run['customers']:,} | plain BG/NBD (r={p['r']:.3f}, alpha={p['alpha']:.3f}, "
                         f"a={p['a']:.3f}, b={p['b']:.3f}) | " + " | ".join(shown[key][1] for key in CDNOW_FIGURES) + " | |")
        lines += [
            "", "The other published columns on the same holdout (revenue LTV: CDNOW has no costs):", "",
            "| data | LTV Spearman | `predicted_ltv` total error % | `predicted_revenue` total error % | churn ROC-AUC |",
            "|---|---|---|---|---|",
        ]
        for run in cdnow_runs:
            v = run["published_ltv"]
            lines.append(f"| {run['variant']} | {_fmt(v['ltv_spearman'])} | {_fmt(v['ltv_total_error_pct'], '_pct')} | "
                         f"{_fmt(v['revenue_total_error_pct'], '_pct')} | {_fmt(v['churn_auc'])} |")
        lines.append("")
    if failures:
        lines += ["## Runs that failed", ""]
        lines += [f"- {f['run']}: {f['error'].strip().splitlines()[-1] if f['error'].strip() else 'no message'}" for f in failures]
        lines.append("")
    return "\n".join(lines)


def _json_safe(value: Any) -> Any:
    """NaN and infinities as null, so that the file is JSON every reader accepts."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", default="all", help="comma-separated families, `all`, or `none`")
    parser.add_argument("--sizes", default="20000,100000", help="customers per business, comma-separated")
    parser.add_argument("--seeds", type=int, default=2, help="seeds 1..N of every family and size")
    parser.add_argument("--first-seed", type=int, default=1, help="start at this seed (to add seeds to an earlier run)")
    parser.add_argument("--histories", default="long,short", help="history shapes: long, short")
    parser.add_argument("--skip-cdnow", action="store_true")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "benchmarks" / "results" / "accuracy.md")
    parser.add_argument("--cache", type=Path, default=PROJECT_ROOT / "data" / "cdnow", help="where the CDNOW wheel is kept")
    parser.add_argument("--work", type=Path, default=None, help="folder for the runs (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep every run's landing zone, truth and lake")
    parser.add_argument("--from-json", type=Path, default=None,
                        help="only write the table again from a results JSON of an earlier run")
    args = parser.parse_args(argv)
    if args.from_json is not None:
        earlier = json.loads(args.from_json.read_text())
        write_results(args.out, earlier["runs"], earlier["cdnow"], earlier.get("failures", []))
        print(f"wrote {args.out} and {args.out.with_suffix('.json')}")
        return 0

    families = list(scenarios.FAMILIES) if args.families == "all" else [] if args.families == "none" else _csv(args.families)
    unknown = set(families) - set(scenarios.FAMILIES) if families else set()
    if unknown:
        parser.error(f"unknown families {sorted(unknown)}; known: {', '.join(scenarios.FAMILIES)}")
    work = args.work or Path(tempfile.mkdtemp(prefix="ltv-accuracy-"))
    runs: list[dict[str, Any]] = []
    cdnow_runs: list[dict[str, Any]] = []
    failures: list[dict[str, str]] = []

    def attempt(label: str, job: Callable[[], dict[str, Any]], into: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Run one business; a failed run is recorded (and the others still run), and the
        results so far are written after every run, so a stopped benchmark leaves a table."""
        print(f"{label} ...", flush=True)
        try:
            into.append(job())
        except (RuntimeError, OSError, ValueError) as exc:
            failures.append({"run": label, "error": str(exc)[-2000:]})
            print(f"  FAILED: {str(exc)[-500:]}", flush=True)
            return None
        finally:
            write_results(args.out, runs, cdnow_runs, failures)
        return into[-1]

    try:
        for family in families:
            for history in _csv(args.histories):
                for size in (int(s) for s in _csv(args.sizes)):
                    for seed in range(args.first_seed, args.seeds + 1):
                        run = attempt(f"{family} {history} {size:,} seed {seed}",
                                      partial(run_scenario, family, size, seed, history, work, args.keep), runs)
                        if run:
                            model = run["measures"]["model"]
                            print(f"  Spearman {model.get('ltv_spearman', math.nan):.3f}, churn AUC {model.get('churn_auc', math.nan):.3f}, "
                                  f"allocation gain {model['allocation_gain']:.2f} ({run['pipeline_seconds']} s)", flush=True)
        if not args.skip_cdnow:
            for variant in cdnow.VARIANTS:
                run = attempt(f"CDNOW {variant}", partial(run_cdnow, variant, work, args.cache, args.keep), cdnow_runs)
                if run:
                    pub, ref = run["published"], run["bg_nbd"]
                    print(f"  published {pub['total_error_pct']:+.2f}% MAE {pub['mae']:.4f} corr {pub['corr']:.4f}; "
                          f"BG/NBD {ref['total_error_pct']:+.2f}% MAE {ref['mae']:.4f} corr {ref['corr']:.4f}", flush=True)
    finally:
        if args.work is None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    write_results(args.out, runs, cdnow_runs, failures)
    print(f"wrote {args.out} and {args.out.with_suffix('.json')}")
    return 1 if failures else 0


def write_results(out: Path, runs: Sequence[Mapping[str, Any]], cdnow_runs: Sequence[Mapping[str, Any]],
                  failures: Sequence[Mapping[str, str]]) -> None:
    """The markdown table and the raw figures as JSON beside it."""
    groups = aggregate(runs)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(groups, cdnow_runs, failures))
    payload = {"runs": runs, "groups": groups, "cdnow": cdnow_runs, "failures": failures}
    out.with_suffix(".json").write_text(json.dumps(_json_safe(payload), indent=1) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
