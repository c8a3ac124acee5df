"""The whole pipeline at several business sizes, per stage: wall time, CPU time, peak memory.

For each size (a fresh interpreter per size, so each peak is that size's own):

1. generate the synthetic business (`generate_business`, seed 0; not part of the figures),
2. run the pipeline exactly as `ltv run` does (`run_pipeline`: every asset and check,
   in-process executor) on an empty lake and warehouse,
3. optionally (`--incremental`, by default for the largest size) the daily case: one more
   day of deliveries (orders, new customers, spend, tickets for the day after the history
   end, written as small CSV files into the landing zone) and `run_pipeline` again with
   `as_of` advanced by a day. A run of ~25 s on this shared machine varies by a second or
   two from one try to the next, more than most changes it is used to judge, so the daily
   case runs `--incremental-repeats` times (default 3), each time on a copy of the lake the
   full run left (restored at the same path), and its figures are those of the median run
   (all times are in the results).

How the figures are taken (all in this process, no profiler attached; pending disk writes
of the generator or of the previous run are flushed with `os.sync()` before each run):

- Stages are Dagster steps, timed by their STEP_START / STEP_SUCCESS events in the run's
  event log (`RunOutcome.step_times`). The ingest assets and their expectation checks
  make `ingest`; the one `dbt build` step is split by dbt's own node timings
  (`run_results.json` of the invocation) into `features` (the `features` schema's nodes
  and their tests) and `dbt` (everything else); inside `ltv_models`, named spans
  (`ltv_pipeline.core.timing.span`) time each BG/NBD, Gamma-Gamma and XGBoost fit; the rest
  of that step is `back-test (rest)` (predictions, metrics, champions, the artifact).
- A sampler thread reads /proc every 50 ms: resident memory (VmRSS) of this process plus
  all its descendants (the dbt process and its DuckDB), and their cumulative CPU time
  (user + system of this process, its reaped children, and the live descendants). A
  stage's peak memory is the largest sample inside its time window, its CPU time the
  growth of the CPU counter across the window. dbt's nodes run two at a time (threads: 2),
  so the `features` window overlaps other nodes: its memory and CPU are an upper bound.
- CPU seconds are reported next to wall seconds because the machine is shared: on two
  busy cores the wall clock stretches, the CPU time much less.

    python benchmarks/pipeline_benchmark.py                          # 100k and 1M, incremental on 1M
    python benchmarks/pipeline_benchmark.py 100000 1000000 3000000   # add 3M
    python benchmarks/pipeline_benchmark.py 20000 --incremental-size 20000 --no-write
    python benchmarks/pipeline_benchmark.py --work /data/bench --keep   # keep lakes for inspection
    python benchmarks/pipeline_benchmark.py 1000000 --out /tmp/pipeline_branch \
        --compare benchmarks/results/pipeline.json   # a branch against the current result

Results replace `benchmarks/results/pipeline.json` and `.md` (the one current result; git
keeps the earlier ones) unless `--no-write`; `--out` writes a side experiment elsewhere.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SAMPLE_SECONDS = 0.05
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

STAGES = (
    "ingest", "ingest checks (GX)", "dbt", "features", "BG/NBD fits", "Gamma-Gamma fits", "XGBoost fits",
    "back-test (rest)", "scoring", "decisions", "publish", "publish checks (GX)",
)
"""Order of the per-stage rows in the results."""


# ---- /proc sampling ----------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return out


def _descendants(pid: int) -> list[int]:
    found, todo = [], _children(pid)
    while todo:
        child = todo.pop()
        found.append(child)
        todo += _children(child)
    return found


def _stat(pid: int) -> tuple[int, int] | None:
    """(CPU ticks incl. reaped children, resident pages) of one process, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # after the ")" field 3 is index 0: utime=14, stime=15, cutime=16, cstime=17, rss=24
    cpu = int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return cpu, int(fields[21])


class Sampler(threading.Thread):
    """(time, rss bytes, cpu seconds) of this process + descendants every `SAMPLE_SECONDS`."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float, float, float]] = []
        """(Unix time, RSS of this process + descendants, their CPU seconds, RSS of this process)."""
        self._stop_event = threading.Event()

    def sample(self) -> None:
        cpu = rss = own = 0
        me = os.getpid()
        for pid in (me, *_descendants(me)):
            stat = _stat(pid)
            if stat is not None:
                cpu += stat[0]
                rss += stat[1]
                own += stat[1] if pid == me else 0
        self.samples.append((time.time(), rss * PAGE, cpu / TICKS, own * PAGE))

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
        self.sample()

    def window(self, start: float, end: float) -> dict[str, float]:
        """Peak memory (GiB) and CPU seconds between two Unix times."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        before = [s for s in self.samples if s[0] <= start] or self.samples[:1]
        after = [s for s in self.samples if s[0] >= end] or self.samples[-1:]
        peak = max((s[1] for s in inside), default=max(before[-1][1], after[0][1]))
        own = max((s[3] for s in inside), default=max(before[-1][3], after[0][3]))
        return {
            "cpu_seconds": max(after[0][2] - before[-1][2], 0.0),
            "peak_gib": peak / 2**30,
            "peak_python_gib": own / 2**30,
        }


# ---- one size, in a child interpreter -----------------------------------------------------

def _dbt_node_windows(run_id: str) -> list[tuple[str, str, float, float]]:
    """(unique_id, schema, start, end) of every node of the run's `dbt build`, from run_results.json."""
    from ltv_pipeline.marts.project import dbt_project

    target = dbt_project().project_dir / "target"
    found = sorted(target.glob(f"ltv_dbt_models-{run_id[:7]}-*/run_results.json"))
    if not found:
        return []
    manifest = json.loads((found[-1].parent / "manifest.json").read_text())
    nodes = manifest["nodes"]
    out = []
    for result in json.loads(found[-1].read_text())["results"]:
        timing = [t for t in result.get("timing", []) if t.get("started_at") and t.get("completed_at")]
        if not timing:
            continue
        start = min(datetime.fromisoformat(t["started_at"].replace("Z", "+00:00")).timestamp() for t in timing)
        end = max(datetime.fromisoformat(t["completed_at"].replace("Z", "+00:00")).timestamp() for t in timing)
        node = nodes.get(result["unique_id"], {})
        schema = node.get("config", {}).get("schema") or node.get("schema", "")
        # a test belongs to the schema of the model it tests
        for parent in node.get("depends_on", {}).get("nodes", []):
            if node.get("resource_type") == "test" and parent in nodes:
                schema = nodes[parent].get("config", {}).get("schema") or schema
        out.append((result["unique_id"], str(schema), start, end))
    return out


def _stage_of_step(step: str) -> str:
    if step.startswith("raw"):
        return "ingest checks (GX)" if step.endswith("_expectations") else "ingest"
    if step == "ltv_dbt_models":
        return "dbt"
    if step == "ltv_models":
        return "back-test (rest)"
    if step == "customer_predictions":
        return "scoring"
    if step in ("customer_scores", "segments", "channel_budget_allocation", "retention_targets"):
        return "decisions"
    if step in ("published_tables", "report"):
        return "publish"
    if step.startswith("published_") and step.endswith("_expectations"):
        return "publish checks (GX)"
    return f"other ({step})"


def _merge_windows(windows: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def measure_run(settings, sampler: Sampler) -> dict:
    """Run the pipeline once and break its cost down per stage."""
    from ltv_pipeline.commands.run import run_pipeline
    from ltv_pipeline.core.timing import spans_since

    started = time.time()
    cpu0 = sampler.samples[-1][2] if sampler.samples else 0.0
    outcome = run_pipeline(settings, log_level="WARNING")
    finished = time.time()
    sampler.sample()
    total = sampler.window(started, finished)

    stages: dict[str, dict[str, float]] = {}

    def add(stage: str, seconds: float, window: dict[str, float] | None, cpu: float | None = None) -> None:
        row = stages.setdefault(stage, {"seconds": 0.0, "cpu_seconds": 0.0, "peak_gib": 0.0, "peak_python_gib": 0.0, "count": 0})
        row["seconds"] += seconds
        row["count"] += 1
        if window is not None:
            row["cpu_seconds"] += window["cpu_seconds"] if cpu is None else cpu
            row["peak_gib"] = max(row["peak_gib"], window["peak_gib"])
            row["peak_python_gib"] = max(row["peak_python_gib"], window["peak_python_gib"])

    steps = {}
    dbt_nodes: list[tuple[float, str]] = []
    for step, (start, end) in sorted(outcome.step_times.items(), key=lambda kv: kv[1][0]):
        window = sampler.window(start, end)
        steps[step] = {"seconds": end - start, **window}
        stage = _stage_of_step(step)
        if step == "ltv_dbt_models":
            nodes = _dbt_node_windows(outcome.run_id)
            dbt_nodes = sorted(((e - s, uid) for uid, _, s, e in nodes), reverse=True)
            feature_windows = _merge_windows([(s, e) for _, schema, s, e in nodes if schema == "features"])
            feature_seconds = sum(e - s for s, e in feature_windows)
            feature_cpu = sum(sampler.window(s, e)["cpu_seconds"] for s, e in feature_windows)
            for s, e in feature_windows:
                add("features", 0.0, sampler.window(s, e), cpu=0.0)
            if feature_windows:
                stages["features"]["seconds"] = feature_seconds
                stages["features"]["cpu_seconds"] = feature_cpu
                stages["features"]["count"] = len(feature_windows)
            add("dbt", (end - start) - feature_seconds, window, cpu=window["cpu_seconds"] - feature_cpu)
        elif step == "ltv_models":
            inner = [s for s in spans_since(start) if s.end <= end + 1e-3]
            used_seconds = used_cpu = 0.0
            for s in inner:
                name = {"bgnbd_fit": "BG/NBD fits", "gamma_gamma_fit": "Gamma-Gamma fits"}.get(
                    s.name, "XGBoost fits" if s.name.startswith("xgboost") else None
                )
                if name is None:
                    continue
                add(name, s.seconds, sampler.window(s.start, s.end), cpu=s.cpu_seconds)
                used_seconds += s.seconds
                used_cpu += s.cpu_seconds
            add(stage, (end - start) - used_seconds, window, cpu=window["cpu_seconds"] - used_cpu)
        else:
            add(stage, end - start, window)
    overhead = (finished - started) - sum(e - s for s, e in outcome.step_times.values())
    return {
        "dbt_slowest_nodes": [(round(sec, 2), uid) for sec, uid in dbt_nodes[:15]],
        "seconds": finished - started,
        "cpu_seconds": total["cpu_seconds"],
        "peak_gib": total["peak_gib"],
        "peak_python_gib": total["peak_python_gib"],
        "orchestration_seconds": overhead,
        "cpu_at_start": cpu0,
        "stages": stages,
        "steps": steps,
        "failed_checks": outcome.failed_checks,
    }


CHILD_MAIN = "child"


def child(mode: str, n_customers: int, root: Path, seed: int) -> dict:
    """`full`: generate the business and run the pipeline on an empty lake; `incremental`:
    add the next day's deliveries to `root`'s landing zone and run again, as_of + 1 day."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as `ltv` sets it (cli.py)
    import polars as pl

    from ltv_pipeline.core.lake import resolve_as_of
    from ltv_pipeline.core.settings import load_settings
    from ltv_pipeline.marts.project import prepare_dbt_manifest
    from ltv_pipeline.synthetic import generate_business

    landing = root / "landing"
    out: dict = {"customers": n_customers}
    if mode == "full":
        t0 = time.perf_counter()
        summary = generate_business(landing, n_customers=n_customers, seed=seed, overwrite=True)
        out["generate_seconds"] = time.perf_counter() - t0
        out["rows"] = summary.rows
    prepare_dbt_manifest()
    settings = load_settings(
        env={}, cwd=root,
        overrides={"landing_dir": landing, "lake_dir": root / "lake", "warehouse": root / "warehouse.duckdb", "mode": "demo"},
    )
    if mode == "incremental":
        from ltv_pipeline.synthetic.next_day import write_next_day

        day = resolve_as_of(settings) + timedelta(days=1)
        out["incremental_rows"] = write_next_day(settings, day)
        out["incremental_as_of"] = day.isoformat()
        from dataclasses import replace

        settings = replace(settings, as_of=day)
    # A scheduled run does not start with another job's writes still on their way to disk; here
    # the generator (full run) or the run before (incremental) leaves gigabytes of them, and
    # the measured run's fsyncs (the publish step's warehouse copy) would wait for their
    # writeback. Flushed before the clock starts.
    os.sync()
    sampler = Sampler()
    sampler.start()
    out["run"] = measure_run(settings, sampler)
    sampler.stop()
    out["maxrss_self_gib"] = _maxrss("self")
    out["maxrss_children_gib"] = _maxrss("children")
    out["raw_orders"] = pl.scan_parquet(root / "lake" / "raw" / "orders" / "*.parquet").select(pl.len()).collect().item()
    return out


def _maxrss(who: str) -> float:
    import resource

    kind = resource.RUSAGE_SELF if who == "self" else resource.RUSAGE_CHILDREN
    return resource.getrusage(kind).ru_maxrss / 2**20


# ---- parent: run the sizes, write the results ---------------------------------------------

def _child(mode: str, n: int, root: Path, seed: int) -> dict:
    command = [sys.executable, __file__, CHILD_MAIN, mode, str(n), str(root), str(seed)]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} run at {n:,} customers failed:\n{proc.stderr[-6000:]}\n{proc.stdout[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _incremental_runs(n: int, root: Path, seed: int, repeats: int) -> list[dict]:
    """The daily case `repeats` times, each on the lake the full run left in `root`. Each
    repeat restores it at the same path: dbt keys its saved parse by the warehouse's path."""
    if repeats == 1:
        return [_child("incremental", n, root, seed)]
    complete = root.with_name(f"{root.name}.complete")
    shutil.copytree(root, complete, symlinks=True)
    try:
        runs = []
        for attempt in range(repeats):
            if attempt:
                shutil.rmtree(root)
                shutil.copytree(complete, root, symlinks=True)
            runs.append(_child("incremental", n, root, seed))
            print(f"  +1 day, run {attempt + 1} of {repeats}: {runs[-1]['run']['seconds']:.1f} s", file=sys.stderr, flush=True)
        return runs
    finally:
        shutil.rmtree(complete, ignore_errors=True)


def run_size(n: int, work: Path | None, keep: bool, incremental: bool, seed: int, repeats: int = 1) -> dict:
    """The full run, then (in a fresh interpreter, as a daily run would be) the incremental
    one, `repeats` times; the median of those is the one reported."""
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        root = (work / f"pipeline_{n}") if (work and keep) else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        full = _child("full", n, root, seed)
        result = {**full, "full": full.pop("run")}
        if incremental:
            runs = _incremental_runs(n, root, seed, repeats)
            inc = sorted(runs, key=lambda r: r["run"]["seconds"])[len(runs) // 2]
            result["incremental"] = inc["run"]
            result["incremental_seconds_each"] = [r["run"]["seconds"] for r in runs]
            result["incremental_rows"] = inc["incremental_rows"]
            result["incremental_as_of"] = inc["incremental_as_of"]
            result["incremental_maxrss_self_gib"] = inc["maxrss_self_gib"]
    return result


def _row(name: str, rows: list[dict | None]) -> str:
    cells = []
    for r in rows:
        cells.append("" if r is None else f"{r['seconds']:.1f} / {r['cpu_seconds']:.1f} / {r['peak_gib']:.2f}")
    return f"| {name} | " + " | ".join(cells) + " |"


def markdown(results: list[dict], meta: dict) -> str:
    lines = [
        f"# Whole-pipeline benchmark, {meta['date']}",
        "",
        f"Machine: {meta['machine']}. Load average at start: {meta['loadavg']}. "
        f"Commit {meta['commit']}{' (+ uncommitted changes)' if meta['dirty'] else ''}."
        "Cells: wall seconds / CPU seconds (this process + dbt) / peak resident GiB (this process + dbt).",
        "",
    ]
    cols = [f"{r['customers']:,} customers ({r['raw_orders']:,} orders)" for r in results]
    has_inc = [r for r in results if "incremental" in r]
    header = "| stage | " + " | ".join(cols) + (" | " + " | ".join(f"+1 day on {r['customers']:,}" for r in has_inc) if has_inc else "") + " |"
    lines += [header, "|---" * (1 + len(cols) + len(has_inc)) + "|"]
    for stage in STAGES:
        cells = [r["full"]["stages"].get(stage) for r in results] + [r["incremental"]["stages"].get(stage) for r in has_inc]
        lines.append(_row(stage, cells))
    extra = sorted({s for r in results for s in r["full"]["stages"] if s not in STAGES})
    for stage in extra:
        lines.append(_row(stage, [r["full"]["stages"].get(stage) for r in results] + [r["incremental"]["stages"].get(stage) for r in has_inc]))
    orchestration = [{"seconds": r["full"]["orchestration_seconds"], "cpu_seconds": 0.0, "peak_gib": 0.0} for r in results]
    orchestration += [{"seconds": r["incremental"]["orchestration_seconds"], "cpu_seconds": 0.0, "peak_gib": 0.0} for r in has_inc]
    lines.append(_row("Dagster between steps (wall only)", orchestration))
    lines.append(_row("**whole run**", [r["full"] for r in results] + [r["incremental"] for r in has_inc]))
    lines.append("")
    if len(results) >= 2:
        a, b = results[0], results[1]
        ratio = b["full"]["seconds"] / a["full"]["seconds"]
        cpu_ratio = b["full"]["cpu_seconds"] / a["full"]["cpu_seconds"]
        lines.append(
            f"{b['customers'] // a['customers']}x the customers: wall time x{ratio:.1f}, CPU time x{cpu_ratio:.1f}."
        )
    for r in has_inc:
        share = r["incremental"]["seconds"] / r["full"]["seconds"]
        each = r.get("incremental_seconds_each", [r["incremental"]["seconds"]])
        tries = f" (the median of {len(each)} runs on copies of the same lake: {', '.join(f'{t:.1f}' for t in each)} s)" if len(each) > 1 else ""
        lines.append(
            f"Incremental day on {r['customers']:,} customers ({', '.join(f'{k} {v:,}' for k, v in r['incremental_rows'].items())} rows): "
            f"{r['incremental']['seconds']:.1f} s{tries} = {share:.0%} of the full run "
            f"({r['incremental']['cpu_seconds'] / r['full']['cpu_seconds']:.0%} of its CPU time)."
        )
    lines.append("")
    return "\n".join(lines)


def comparison(before: list[dict], after: list[dict]) -> str:
    """Before/after table (wall s / CPU s / peak GiB) for the sizes both runs measured."""
    old = {(r["customers"], k): r[k] for r in before for k in ("full", "incremental") if k in r}
    new = {(r["customers"], k): r[k] for r in after for k in ("full", "incremental") if k in r}
    cols = [
        (f"{n:,}" + (" +1 day" if kind == "incremental" else ""), old[(n, kind)], new[(n, kind)])
        for n, kind in sorted(new)
        if (n, kind) in old
    ]
    lines = ["| stage | " + " | ".join(f"{label} before | {label} after" for label, *_ in cols) + " |"]
    lines.append("|---" * (1 + 2 * len(cols)) + "|")
    for stage in (*STAGES, "whole run"):
        cells = []
        for _, b, a in cols:
            for run in (b, a):
                row = run if stage == "whole run" else run["stages"].get(stage)
                cells.append("" if row is None else f"{row['seconds']:.1f} / {row['cpu_seconds']:.1f} / {row['peak_gib']:.2f}")
        name = f"**{stage}**" if stage == "whole run" else stage
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _meta() -> dict:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True, check=False, cwd=Path(__file__).parent).stdout.strip()
        except OSError:
            return ""

    with open("/proc/loadavg") as fh:
        load = " ".join(fh.read().split()[:3])
    mem = os.sysconf("SC_PHYS_PAGES") * PAGE / 2**30
    return {
        "date": date.today().isoformat(),
        "machine": f"{os.cpu_count()} cores, {mem:.0f} GiB, {platform.processor() or platform.machine()}, Python {platform.python_version()}",
        "loadavg": load,
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == CHILD_MAIN:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        mode, n, root, seed = sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5])
        print(json.dumps(child(mode, n, root, seed)))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000], help="numbers of customers")
    parser.add_argument("--incremental-size", type=int, help="size that also gets the one-day incremental run (default: 1M if run, else the largest)")
    parser.add_argument("--no-incremental", action="store_true")
    parser.add_argument(
        "--incremental-repeats", type=int, default=3,
        help="daily runs on copies of the same complete lake; the median is reported (default 3)",
    )
    parser.add_argument("--work", type=Path, help="folder for the lakes (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep each size's landing zone, lake and warehouse under --work")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=RESULTS_DIR / "pipeline",
        help="results path without suffix: writes <out>.json and <out>.md (default: benchmarks/results/pipeline)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only; write no results files")
    parser.add_argument("--compare", type=Path, help="an earlier results .json: add a before/after table")
    args = parser.parse_args()
    if args.keep and not args.work:
        parser.error("--keep needs --work")
    if args.incremental_repeats < 1:
        parser.error("--incremental-repeats must be at least 1")
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
    inc = None if args.no_incremental else (args.incremental_size or (1_000_000 if 1_000_000 in args.sizes else max(args.sizes)))
    meta = _meta()
    results = []
    for n in args.sizes:
        print(f"{n:,} customers ...", file=sys.stderr, flush=True)
        r = run_size(n, args.work, args.keep, n == inc, args.seed, args.incremental_repeats)
        print(
            f"  full run {r['full']['seconds']:.0f} s wall, {r['full']['cpu_seconds']:.0f} s CPU, "
            f"peak {r['full']['peak_gib']:.2f} GiB"
            + (f"; +1 day {r['incremental']['seconds']:.0f} s" if "incremental" in r else ""),
            file=sys.stderr, flush=True,
        )
        results.append(r)
    text = markdown(results, meta)
    if args.compare:
        before = json.loads(args.compare.read_text())
        text += (
            f"\n## Before / after ({args.compare.name}, commit {before['meta']['commit']}, "
            f"load average {before['meta']['loadavg']})\n\nCells: wall s / CPU s / peak GiB.\n\n"
            + comparison(before["results"], results)
        )
    print(text)
    if not args.no_write:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".json").write_text(json.dumps({"meta": meta, "results": results}, indent=1) + "\n")
        args.out.with_suffix(".md").write_text(text)
        print(f"written {args.out}.json and .md", file=sys.stderr)


if __name__ == "__main__":
    main()
