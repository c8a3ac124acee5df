"""Wall time and peak memory of the synthetic generator at several business sizes.

Why a fresh process per size: peak RSS (ru_maxrss) only ever grows within a process, so
each size runs in its own interpreter to report its own peak.

    python benchmarks/generate_benchmark.py               # 100k and 1M customers
    python benchmarks/generate_benchmark.py 20000 --messy
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, resource, sys
from pathlib import Path
from ltv_pipeline.synthetic import generate_business
s = generate_business(Path(sys.argv[1]), int(sys.argv[2]), seed=0, messy=sys.argv[3] == "1")
size = sum(f.stat().st_size for f in Path(sys.argv[1]).rglob("*") if f.is_file())
print(json.dumps({"seconds": s.elapsed_seconds, "rows": s.rows, "files": len(s.files), "landing_mb": size / 2**20,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(n_customers: int, messy: bool) -> dict:
    """Generate in a child process; its own timer excludes start-up, the parent's includes it."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(Path(tmp) / "landing"), str(n_customers), "1" if messy else "0"],
            check=True, capture_output=True, text=True,
        )
    return json.loads(out.stdout.strip().splitlines()[-1]) | {"process_seconds": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000], help="numbers of customers")
    parser.add_argument("--messy", action="store_true", help="also write the messy deliveries")
    args = parser.parse_args()
    print(f"{'customers':>10} {'orders':>11} {'seconds':>8} {'with start':>10} {'peak RSS MB':>12} {'landing MB':>11}")
    for n in args.sizes:
        r = run(n, args.messy)
        orders, rss, size = r["rows"]["orders"], r["peak_rss_mb"], r["landing_mb"]
        print(f"{n:>10,} {orders:>11,} {r['seconds']:>8.1f} {r['process_seconds']:>10.1f} {rss:>12,.0f} {size:>11,.0f}")


if __name__ == "__main__":
    main()
