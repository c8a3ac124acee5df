"""The `ltv` command line (docs/contract.md, section 4): demo, run, generate.

Exit code 0 on success; non-zero with a one-line reason on stderr on failure, and one line
per rejected delivery when a delivery could not be read. Commands that write the lake (run,
demo, forget) hold its run lock (run_lock.py): while another run holds it they fail at once,
naming it, or wait up to `--wait` seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from ltv_pipeline.core import layout
from ltv_pipeline.core.settings import Settings, SettingsError, load_settings

DEMO_DIR = Path("data/demo")
DEMO_CUSTOMERS = 20_000
DEMO_SEED = 42
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _lock_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait", type=float, default=0.0, metavar="SECONDS",
        help="when another run is using the lake, wait up to this long for it instead of failing at once",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ltv", description="Customer-lifetime-value lakehouse.")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="generate the demo business and run everything on it")
    demo.add_argument("--customers", type=int, default=DEMO_CUSTOMERS, help="size of the demo business")
    demo.add_argument("--seed", type=int, default=DEMO_SEED)
    demo.add_argument("--dir", type=Path, default=DEMO_DIR, help="where the demo's landing zone, lake and warehouse go")
    demo.add_argument("--log-level", choices=LOG_LEVELS, default="INFO", help="DEBUG also shows every step as it starts and ends")
    _lock_options(demo)

    run = sub.add_parser("run", help="materialise every asset for the given inputs")
    run.add_argument("--landing", dest="landing_dir", help="landing zone folder")
    run.add_argument("--as-of", dest="as_of", help="analysis date (YYYY-MM-DD)")
    run.add_argument("--horizon-days", dest="horizon_days", help="prediction horizon in days")
    run.add_argument("--config", help="ltv.yml to use")
    run.add_argument("--log-level", choices=LOG_LEVELS, default="INFO", help="DEBUG also shows every step as it starts and ends")
    _lock_options(run)

    rep = sub.add_parser("report", help="print the path of the last run's HTML report")
    rep.add_argument("--config", help="ltv.yml to use")
    rep.add_argument("--open", action="store_true", help="also open it in the default browser")

    forget = sub.add_parser("forget", help="erase customers from the lake, the warehouse and the published tables")
    forget.add_argument("customer_ids", nargs="+", metavar="CUSTOMER_ID")
    forget.add_argument("--config", help="ltv.yml to use")
    _lock_options(forget)

    gen = sub.add_parser("generate", help="write a synthetic landing zone")
    gen.add_argument("--customers", type=int, required=True)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--out", type=Path, required=True, help="landing zone folder to write")
    gen.add_argument("--messy", action="store_true", help="add realistic bad rows for the quarantine")
    return parser


def _say(message: str) -> None:
    print(message, flush=True)


def _generate(out: Path, customers: int, seed: int, messy: bool) -> None:
    from ltv_pipeline.synthetic import generate_business

    if customers <= 0:
        raise SettingsError("--customers must be a positive number")
    _say(f"Generating a synthetic business of {customers:,} customers (seed {seed}) into {out} ...")
    summary = generate_business(out, n_customers=customers, seed=seed, messy=messy)
    rows = ", ".join(f"{source} {n:,}" for source, n in summary.rows.items())
    _say(f"  wrote {rows} in {summary.elapsed_seconds:.1f}s; true parameters in {summary.truth_dir}")


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from ltv_pipeline.commands.run import run_pipeline

    started = time.perf_counter()
    _say(f"Running the pipeline on {settings.landing_dir} (lake {settings.lake_dir}, warehouse {settings.warehouse})")
    # The run's log (Dagster's, and any library warnings) goes to stdout with the summary, so
    # that stderr carries only the reasons of a failure, one line each (docs/contract.md, section 4).
    with contextlib.redirect_stderr(sys.stdout):
        outcome = run_pipeline(settings, args.log_level, holder=f"ltv {args.command}", wait_seconds=args.wait)
    _print_summary(outcome, time.perf_counter() - started)
    for row in outcome.rejected.iter_rows(named=True):
        print(f"rejected delivery {row['source']}/{row['delivery']}: {row['message']}", file=sys.stderr)
    return 1 if outcome.rejected.height else 0


def _print_summary(outcome, elapsed: float) -> None:
    from ltv_pipeline.commands.run_summary import headline_lines
    from ltv_pipeline.core.lake import scan_raw_table
    from ltv_pipeline.core.layout import raw_table_files
    from ltv_pipeline.ingest.sources import SPECS

    s = outcome.settings
    _say(f"\nDone in {elapsed:.0f}s.")
    by_source = outcome.load_log.group_by("source").agg(
        pl.col("rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate").sum()
    )
    counts = {r["source"]: r for r in by_source.iter_rows(named=True)}
    _say(f"{'source':<16}{'rows in lake':>14}{'read':>12}{'loaded':>12}{'quarantined':>13}{'duplicates':>12}")
    for source in SPECS:
        in_lake = scan_raw_table(s, source).select(pl.len()).collect().item() if raw_table_files(s, source) else 0
        c = counts.get(source, {})
        _say(
            f"{source:<16}{in_lake:>14,}{c.get('rows_read', 0):>12,}{c.get('rows_loaded', 0):>12,}"
            f"{c.get('rows_quarantined', 0):>13,}{c.get('rows_duplicate', 0):>12,}"
        )
    _say("")
    for line in headline_lines(s):
        _say(line)
    if outcome.failed_checks:
        _say(f"\nChecks that failed ({len(outcome.failed_checks)}): " + ", ".join(outcome.failed_checks))
    _say("\nOutputs:")
    _say(f"  raw tables        {s.lake_dir / 'raw'}")
    _say(f"  quarantine        {s.lake_dir / 'quarantine'}")
    _say(f"  load log          {layout.load_log_path(s)}")
    _say(f"  warehouse         {s.warehouse}  (schemas marts, published, ...)")
    _say(f"  published tables  {layout.published_dir(s)}")
    _say(f"  report            {layout.report_path(s)}")


def _demo(args: argparse.Namespace) -> int:
    """Generate the demo business into a fresh `--dir` and run everything on it.

    The folder is emptied while holding its lake's run lock, so a demo still running there
    fails this one instead of losing its files; the lock file itself is kept, as deleting
    it would let a third run lock a new file while the second still holds the old one.
    """
    from ltv_pipeline.orchestration.run_lock import hold_lake

    root = args.dir.resolve()
    settings = load_settings(
        overrides={"landing_dir": root / "landing", "lake_dir": root / "lake", "warehouse": root / "warehouse.duckdb", "mode": "demo"}
    )
    with hold_lake(settings, "ltv demo", args.wait):
        _empty_except(root, layout.lock_path(settings).absolute())
        _generate(root / "landing", args.customers, args.seed, messy=False)
        return _run(settings, args)


def _empty_except(folder: Path, keep: Path) -> None:
    """Delete everything under `folder` but the file `keep` (and the folders leading to it)."""
    for entry in folder.iterdir() if folder.is_dir() else ():
        if entry == keep:
            continue
        if keep.is_relative_to(entry):
            _empty_except(entry, keep)
        elif entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _forget(settings: Settings, customer_ids: list[str], wait_seconds: float) -> int:
    from ltv_pipeline.commands.forget import forget_customers
    from ltv_pipeline.orchestration.run_lock import hold_lake

    with hold_lake(settings, "ltv forget", wait_seconds):
        report = forget_customers(settings, customer_ids)
    for location, rows in sorted(report.rows_by_location.items()):
        _say(f"  erased {rows:>6,}  {location}")
    _say(f"Erased {report.total:,} rows of {len(set(customer_ids))} customer(s); the erasure is logged (hashed) in "
         f"{layout.meta_dir(settings) / 'erasures.parquet'}.")
    _say(f"Delete them from your own exports in {settings.landing_dir} too: a re-delivered file would load them again.")
    return 0


def _report(settings: Settings, open_it: bool) -> int:
    path = layout.report_path(settings)
    if not path.exists():
        raise FileNotFoundError(f"no report at {path}: run `ltv run` (or `ltv demo`) first")
    print(path)
    if open_it:
        import webbrowser

        webbrowser.open(path.as_uri())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    # XGBoost's OpenMP threads spin-wait by default, which starves the other steps on few cores;
    # it must be set before xgboost loads, which happens later, inside the run.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    args = _parser().parse_args(argv)
    try:
        if args.command == "generate":
            _generate(args.out, args.customers, args.seed, args.messy)
            return 0
        if args.command == "demo":
            return _demo(args)
        if args.command == "forget":
            return _forget(load_settings(args.config), args.customer_ids, args.wait)
        if args.command == "report":
            return _report(load_settings(args.config), args.open)
        overrides = {k: getattr(args, k) for k in ("landing_dir", "as_of", "horizon_days")}
        return _run(load_settings(args.config, overrides=overrides), args)
    except (SettingsError, OSError, ValueError, RuntimeError) as exc:
        print(f"ltv: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ltv: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
