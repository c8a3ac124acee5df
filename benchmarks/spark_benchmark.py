"""Wall time of the dbt marts on Spark (local[*], dbt-spark `method: session`), cold and warm,
next to the same build on DuckDB, at one or more business sizes.

    .venv/bin/python benchmarks/spark_benchmark.py                      # 1,000 and 100,000 customers
    .venv/bin/python benchmarks/spark_benchmark.py 1000 --with-tests    # the full `dbt build`
    .venv/bin/python benchmarks/spark_benchmark.py 100000 --java-options ""   # Spark's default JIT

Per size, one lake and three builds of it:

  duckdb      `dbt build` of the models and the seed on DuckDB (the embedded default)
  spark cold  the same on Spark with a new, empty Spark dir: JVM start, Derby metastore
              created, every schema and table created
  spark warm  again on the same Spark dir: JVM start, metastore opened, every table replaced

`start-up` is the time from launching dbt to its first model starting (on Spark: the JVM,
the metastore, dbt-spark listing the schemas, the on-run-start views). JVM CPU seconds and
peak RSS are read from /proc while the run lasts (the JVM is a grandchild: rusage misses it).
The smallest size is the synthetic generator through the real ingest; the larger ones are
written straight in the raw schema (benchmarks/dbt_benchmark.py) so that writing them takes
seconds. On a shared machine the wall time moves with the other load: the load average is
printed before each size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))

from ltv_pipeline.core import layout
from ltv_pipeline.core.settings import Settings, load_settings  # noqa: E402
from ltv_pipeline.marts.dbt_resource import (
    dbt_env,
    dbt_vars_env,  # noqa: E402
)
from ltv_pipeline.marts.project import dbt_executable, dbt_project, prepare_dbt_manifest  # noqa: E402

GENERATED_MAX = 20_000
"""Up to this many customers the lake comes from the synthetic generator and the ingest."""
MARTS = ["build", "--resource-type", "model", "--resource-type", "seed"]
QUICK_JVM = "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m"


@dataclass
class JvmWatch:
    """Polls /proc for the Spark JVM under a process: its CPU seconds and peak RSS."""

    root_pid: int
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)

    def _jvms(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(ppid, []).append(int(entry.name))
        found, stack = [], [self.root_pid]
        while stack:
            pid = stack.pop()
            for child in children.get(pid, []):
                stack.append(child)
                try:
                    if b"SparkSubmit" in Path(f"/proc/{child}/cmdline").read_bytes():
                        found.append(child)
                except OSError:
                    pass
        return found

    def _sample(self) -> None:
        ticks = os.sysconf("SC_CLK_TCK")
        for pid in self._jvms():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                self.cpu_seconds = max(self.cpu_seconds, (int(fields[11]) + int(fields[12])) / ticks)
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_rss_mb = max(self.peak_rss_mb, int(line.split()[1]) / 1024)
            except (OSError, IndexError, ValueError):
                pass

    def run(self) -> None:
        while not self._stop.wait(0.5):
            self._sample()

    def stop(self) -> None:
        self._stop.set()


def write_lake(root: Path, n_customers: int) -> tuple[Settings, dict[str, int]]:
    """A lake of `n_customers` under root/lake; the settings to build it as of its last day."""
    import polars as pl

    if n_customers <= GENERATED_MAX:
        from ltv_pipeline.core.lake import resolve_as_of
        from ltv_pipeline.ingest.loader import ingest_source
        from ltv_pipeline.ingest.sources import SPECS
        from ltv_pipeline.synthetic import generate_business

        generate_business(root / "landing", n_customers=n_customers, seed=5)
        settings = load_settings(env={}, cwd=root, overrides={
            "landing_dir": root / "landing", "lake_dir": root / "lake", "warehouse": root / "warehouse.duckdb", "mode": "demo",
        })
        for source in SPECS:
            ingest_source(settings, source)
        as_of = resolve_as_of(settings)
    else:
        import dbt_benchmark

        dbt_benchmark.write_raw_lake(root / "lake", n_customers)
        as_of = dbt_benchmark.AS_OF
    settings = load_settings(env={}, cwd=root, overrides={
        "lake_dir": root / "lake", "warehouse": root / "warehouse.duckdb", "as_of": as_of.isoformat(), "mode": "demo",
    })
    rows = {source: pl.scan_parquet(str(layout.raw_dir(settings, source) / "*.parquet")).select(pl.len()).collect().item()
            for source in ("orders", "customers")}
    return settings, rows


def build(settings: Settings, args: list[str], log_dir: Path) -> dict:
    """One `dbt <args>` like `run_dbt`, timed, with the JVM watched; raises on failure."""
    project = dbt_project()
    log_dir.mkdir(parents=True, exist_ok=True)
    command = [
        dbt_executable(), *args,
        "--project-dir", str(project.project_dir), "--profiles-dir", str(project.profiles_dir),
        "--target-path", str(log_dir), "--log-path", str(log_dir),
    ]
    env = {**os.environ, **dbt_env(settings), **dbt_vars_env(settings, settings.as_of), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    launched = datetime.now(timezone.utc).replace(tzinfo=None)
    t0 = time.perf_counter()
    with open(log_dir / "stdout.txt", "w") as out, open(log_dir / "stderr.txt", "w") as err:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        watch = JvmWatch(process.pid)
        watcher = threading.Thread(target=watch.run, daemon=True)
        watcher.start()
        returncode = process.wait()
        watch.stop()
    seconds = time.perf_counter() - t0
    results = json.loads((log_dir / "run_results.json").read_text())["results"] if (log_dir / "run_results.json").exists() else []
    bad = {r["unique_id"]: r["status"] for r in results if r["status"] not in ("success", "pass", "warn")}
    if returncode != 0 or bad:
        tail = "\n".join((log_dir / "stdout.txt").read_text().splitlines()[-30:])
        raise SystemExit(f"dbt {' '.join(args)} failed on {settings.engine} (exit {returncode}): {bad}\n{tail}")
    first_start = min(
        (datetime.fromisoformat(t["started_at"].rstrip("Z")) for r in results if not r["unique_id"].startswith("operation.")
         for t in r["timing"] if t.get("started_at")),
        default=None,
    )
    slowest = sorted(((r["execution_time"], r["unique_id"].split(".")[-1]) for r in results), reverse=True)[:3]
    return {
        "seconds": seconds,
        "startup": (first_start - launched).total_seconds() if first_start else float("nan"),
        "nodes": len(results),
        "jvm_cpu": watch.cpu_seconds,
        "jvm_peak_mb": watch.peak_rss_mb,
        "slowest": slowest,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, default=[1_000, 100_000], help="numbers of customers")
    parser.add_argument("--with-tests", action="store_true", help="the full `dbt build` (data and unit tests too), not only the marts")
    parser.add_argument("--java-options", default=QUICK_JVM, help=f"spark_java_options (default: {QUICK_JVM!r})")
    parser.add_argument("--shuffle-partitions", type=int, default=None, help="spark_shuffle_partitions (default: the setting's)")
    parser.add_argument("--keep", type=Path, help="keep each size's lake, Spark dir and logs under this folder")
    args = parser.parse_args()
    dbt_args = ["build"] if args.with_tests else MARTS
    prepare_dbt_manifest()
    print(f"dbt {' '.join(dbt_args)}; spark_java_options={args.java_options!r}; {os.cpu_count()} cores")
    header = f"{'customers':>10} {'orders':>10} {'engine':<11} {'nodes':>5} {'wall s':>7} {'start-up s':>10} {'JVM CPU s':>9} {'JVM peak MB':>11}  slowest nodes (s)"
    print(header)
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = (args.keep / str(n)) if args.keep else Path(tmp)
            root.mkdir(parents=True, exist_ok=True)
            load = os.getloadavg()[0]
            settings, rows = write_lake(root, n)
            spark_overrides = {"engine": "spark", "spark_dir": root / "spark", "spark_java_options": args.java_options}
            if args.shuffle_partitions:
                spark_overrides["spark_shuffle_partitions"] = args.shuffle_partitions
            spark = load_settings(env={}, cwd=root, overrides={
                "lake_dir": settings.lake_dir, "warehouse": settings.warehouse, "as_of": settings.as_of.isoformat(),
                "mode": "demo", **spark_overrides,
            })
            runs = [
                ("duckdb", build(settings, dbt_args, root / "logs" / "duckdb")),
                ("spark cold", build(spark, dbt_args, root / "logs" / "spark_cold")),
                ("spark warm", build(spark, dbt_args, root / "logs" / "spark_warm")),
            ]
            for engine, r in runs:
                slowest = ", ".join(f"{name} {t:.1f}" for t, name in r["slowest"])
                jvm = engine.startswith("spark")
                cpu = f"{r['jvm_cpu']:.0f}" if jvm else "-"
                peak = f"{r['jvm_peak_mb']:.0f}" if jvm else "-"
                print(
                    f"{n:>10,} {rows['orders']:>10,} {engine:<11} {r['nodes']:>5} {r['seconds']:>7.1f} {r['startup']:>10.1f} "
                    f"{cpu:>9} {peak:>11}  {slowest}"
                )
            print(f"{'':>10} (load average {load:.1f} before this size)")


if __name__ == "__main__":
    main()
