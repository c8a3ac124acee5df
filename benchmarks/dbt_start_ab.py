"""What the warm dbt start saves: the +1 day run on one kept lake, dbt cold and warm, interleaved.

Whole-pipeline runs on this shared 2-core machine drift by 10-20% from one to the next,
more than the warm start saves, so one benchmark before and one after cannot show it.
This runs the same daily case in pairs, cold then warm, each on a fresh copy of a lake
that `pipeline_benchmark.py --work DIR --keep` left complete, and reports every pair and
the means of the step times the warm start can change (the two dbt steps) next to one it
cannot (scoring). The first pair is reported but left out of the means: the first dbt
invocation on a lake path after the test suite or another benchmark re-parses the
project (~3 s), which later ones do not.

    python benchmarks/pipeline_benchmark.py 1000000 --work /tmp/bench --keep --no-incremental
    python benchmarks/dbt_start_ab.py /tmp/bench/pipeline_1000000 --pairs 4

Cold means `LTV_WARM_DBT_SOCKET` set to a socket nobody serves: the dbt resource then
starts no starter and `ltv-dbt` runs dbt itself (ltv_pipeline/warm_dbt.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from ltv_pipeline.warm_dbt import SOCKET_ENV

BENCHMARK = Path(__file__).resolve().with_name("pipeline_benchmark.py")
STEPS = {"ltv_dbt_models": "marts (dbt)", "ltv_dbt_daily_models": "daily facts (dbt)", "customer_predictions": "scoring"}


def daily_run(lake: Path, work: Path, cold: bool) -> dict:
    """The benchmark's incremental child on a fresh copy of `lake`; its measured run."""
    copy = work / lake.name
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(lake, copy, symlinks=True)
    env = {k: v for k, v in os.environ.items() if k != SOCKET_ENV}
    if cold:
        env[SOCKET_ENV] = str(work / "no-starter" / "socket")
    proc = subprocess.run(
        [sys.executable, str(BENCHMARK), "child", "incremental", "1000000", str(copy), "0"],
        capture_output=True, text=True, env=env, check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"the daily run failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])["run"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lake", type=Path, help="a size's folder that pipeline_benchmark.py --keep left (landing, lake, warehouse)")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--work", type=Path, help="where the copies go (default: next to the lake)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(dir=args.work or args.lake.parent, prefix="dbt-start-ab-"))
    rows: dict[str, list[dict]] = {"cold": [], "warm": []}
    lines = ["| pair | dbt | whole run s | CPU s | " + " | ".join(f"{label} s" for label in STEPS.values()) + " |"]
    lines.append("|---" * (4 + len(STEPS)) + "|")
    try:
        for pair in range(1, args.pairs + 1):
            for mode in ("cold", "warm"):
                run = daily_run(args.lake, work, cold=mode == "cold")
                if pair > 1:
                    rows[mode].append(run)
                cells = [f"{run['steps'][step]['seconds']:.1f}" for step in STEPS]
                line = f"| {pair}{'' if pair > 1 else ' (re-parse, not in the means)'} | {mode} | {run['seconds']:.1f} | {run['cpu_seconds']:.1f} | " + " | ".join(cells) + " |"
                print(line, file=sys.stderr, flush=True)
                lines.append(line)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for mode, runs in rows.items():
        if runs:
            cells = [f"{statistics.mean(r['steps'][step]['seconds'] for r in runs):.1f}" for step in STEPS]
            lines.append(
                f"| mean of pairs 2-{args.pairs} | {mode} | {statistics.mean(r['seconds'] for r in runs):.1f} | "
                f"{statistics.mean(r['cpu_seconds'] for r in runs):.1f} | " + " | ".join(cells) + " |"
            )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
