"""Faults survived: SIGKILL in every stage, a full disk, a read-only lake.

A run killed with SIGKILL in the middle of a stage and then run again ends with exactly the
tables of an uninterrupted run. The kills form a chain on one lake: the run after a kill in
stage S is itself killed in the stage after S, so it has redone S before it dies; after
each kill, what S produced must equal the reference run's, and the last run, which
completes, must leave everything equal (raw tables, quarantine, load log, marts, models,
predictions, decisions, published tables in Parquet and in the warehouse, and the very
same set of files). As strict as a fresh lake per stage, for about half the runs. Equal
means: the same rows, every non-float value the same, floats within what two uninterrupted
runs differ by (`SUMMED`, `REFITTED`).

A full disk (a small tmpfs) and a read-only lake (a read-only bind mount) are simulated in
a private mount namespace (`unshare`, root only; skipped elsewhere): the run must fail with
one line naming the path and the reason, and leave readers the last good state.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import pytest
from ltv_process import BIN, Process, ltv_env
from polars.testing import assert_frame_equal

from ltv_pipeline.core import layout
from ltv_pipeline.core.layout import raw_table_files
from ltv_pipeline.core.settings import Settings, load_settings
from ltv_pipeline.ingest.sources import SPECS
from ltv_pipeline.prediction.training import TrainedModels
from ltv_pipeline.publish.tables import PUBLISHED_TABLES
from ltv_pipeline.synthetic import generate_business

pytestmark = pytest.mark.xdist_group("faults")

AS_OF = "2026-09-30"
"""Fixed, so that every run computes the same tables."""
RUN_TIMEOUT = 1200.0
"""Seconds for one whole run (about two minutes on this 2-core machine while other jobs ran)."""
WALL_CLOCK = ("_loaded_at", "loaded_at", "run_id")
"""Columns that record when (or in which run) something ran, not what it computed."""
SUMMED = 1e-9
"""Relative tolerance for floats that DuckDB sums: its sums of doubles are not reproducible to
the last bit (two uninterrupted runs here: a few features differing by 1e-16 relative)."""
REFITTED = 1e-3
"""Relative tolerance for what depends on a model fit, which moves such last-bit differences
to the optimiser's tolerance: back-test metrics by up to 4e-8 relative (12 refits on features
perturbed by one ulp), a customer's predicted revenue from 415.335989 to 415.335917 after a
refit in a rerun. Corruption is caught anyway: row sets, keys and every non-float column are
compared exactly."""


# ---- runs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Lake:
    """A lake and its warehouse under `root`, loaded from the shared landing zone."""

    root: Path
    landing: Path

    @property
    def settings(self) -> Settings:
        return load_settings(
            env={}, cwd=self.root,
            overrides={"landing_dir": self.landing, "lake_dir": self.root / "lake", "warehouse": self.root / "warehouse.duckdb"},
        )

    def start_run(self) -> Process:
        s = self.settings
        argv = [str(BIN / "ltv"), "run", "--landing", str(self.landing), "--as-of", AS_OF, "--log-level", "DEBUG"]
        return Process(argv, ltv_env(s.lake_dir, s.warehouse), cwd=self.root)


@dataclass(frozen=True)
class Reference:
    lake: Lake
    exit_code: int
    step_seconds: dict[str, float]
    """How long each step took, to aim a kill inside it."""


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small messy business: quarantined rows, corrections and re-deliveries too."""
    landing = tmp_path_factory.mktemp("faults") / "landing"
    generate_business(landing, n_customers=1_000, seed=7, messy=True)
    return landing


@pytest.fixture(scope="module")
def reference(landing: Path) -> Reference:
    lake = Lake(landing.parent / "reference", landing)
    lake.root.mkdir()
    run = lake.start_run()
    code = run.finish(RUN_TIMEOUT)
    assert code in (0, 1) and "Done in" in run.output, run.tail()  # 1: a delivery was rejected
    return Reference(lake, code, {step: run.finished[step] - start for step, start in run.started.items() if step in run.finished})


# ---- what each stage leaves behind, made comparable -----------------------------------


Tables = dict[str, pl.DataFrame]


def _comparable(frame: pl.DataFrame) -> pl.DataFrame:
    frame = frame.drop([c for c in frame.columns if c in WALL_CLOCK])
    flat = [c for c, dtype in frame.schema.items() if not dtype.is_nested()]
    return frame.sort(flat, nulls_last=True) if flat else frame


def _parquet_files(folder: Path) -> Tables:
    return {str(p.relative_to(folder)): pl.read_parquet(p) for p in sorted(folder.rglob("*.parquet"))}


def _schema(warehouse: Path, schema: str) -> Tables:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]
        ).fetchall()
        return {f"{schema}.{name}": con.sql(f'select * from "{schema}"."{name}"').pl() for (name,) in names}


def raw_layer(lake: Lake) -> Tables:
    """Raw tables (whatever their files), quarantine, and the load log as a set of rows: a
    delivery that is rejected is retried, and logged, by every run that sees it."""
    s = lake.settings
    tables = {f"raw/{src}": pl.concat([pl.read_parquet(f) for f in raw_table_files(s, src)]) for src in SPECS if raw_table_files(s, src)}
    tables |= {f"quarantine/{k}": v for k, v in _parquet_files(s.lake_dir / "quarantine").items()}
    tables["load_log"] = pl.read_parquet(layout.load_log_path(s)).drop("loaded_at").unique()
    return tables


def marts(lake: Lake, warehouse: Path | None = None) -> Tables:
    return _schema(warehouse or layout.build_warehouse(lake.settings), "marts")


def models(lake: Lake) -> Tables:
    tables = {}
    for path in sorted((lake.settings.lake_dir / "models").rglob("*.zip")):
        trained = TrainedModels.from_bytes(path.read_bytes())
        tables[f"{path.parent.name}/evaluation"] = trained.evaluation
        tables[f"{path.parent.name}/parameters"] = trained.btyd.parameters(trained.as_of)
    return tables


def predictions(lake: Lake) -> Tables:
    return _parquet_files(lake.settings.lake_dir / "prediction")


def decisions(lake: Lake) -> Tables:
    return _parquet_files(lake.settings.lake_dir / "decisions")


def published(lake: Lake) -> Tables:
    s = lake.settings
    in_parquet = {f"parquet/{name}": pl.read_parquet(layout.published_dir(s) / f"{name}.parquet") for name in PUBLISHED_TABLES}
    return in_parquet | _schema(s.warehouse, "published")


def files(lake: Lake) -> set[str]:
    """Every file of the lake and beside the warehouse (temporary files of killed writes included)."""
    root = lake.root
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def assert_same_tables(got: Tables, expected: Tables, what: str, rel_tol: float) -> None:
    assert sorted(got) == sorted(expected), f"{what}: other tables than the uninterrupted run's"
    for name in expected:
        try:
            assert_frame_equal(_comparable(got[name]), _comparable(expected[name]), check_exact=False, rel_tol=rel_tol, abs_tol=1e-9)
        except AssertionError as exc:
            raise AssertionError(f"{what}: {name} differs from the uninterrupted run's: {exc}") from None


# ---- the chain of kills ---------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    name: str
    step: str
    """The Dagster step the kill aims at: a third of the way into it, by the reference run's timing."""
    outputs: Callable[[Lake], Tables]
    rel_tol: float


STAGES = (
    Stage("ingest", "raw__orders", raw_layer, SUMMED),  # customers and marketing spend are loaded by then
    Stage("marts", "ltv_dbt_models", marts, SUMMED),
    Stage("training", "ltv_models", models, REFITTED),
    Stage("scoring", "customer_predictions", predictions, REFITTED),
    Stage("decisions", "segments", decisions, REFITTED),  # four files: snapshot, summary, cohorts, migration
    Stage("publish", "published_tables", published, REFITTED),
)


@dataclass
class Kill:
    stage: Stage
    after_seconds: float
    step_had_finished: bool
    """True when the step finished just before the kill landed (then it hit the next step)."""


@dataclass
class KillChain:
    lake: Lake
    reference: Reference
    kills: list[Kill] = field(default_factory=list)
    final_exit_code: int | None = None

    def advance(self, runs: int) -> None:
        """Run the chain until `runs` runs have ended: one killed per stage, then one to completion."""
        while len(self.kills) + (self.final_exit_code is not None) < runs:
            if len(self.kills) < len(STAGES):
                self.kills.append(self._kill_in(STAGES[len(self.kills)]))
            else:
                run = self.lake.start_run()
                self.final_exit_code = run.finish(RUN_TIMEOUT)
                assert "Done in" in run.output, run.tail()

    def _kill_in(self, stage: Stage) -> Kill:
        run = self.lake.start_run()
        try:
            started = run.wait_for_step(stage.step, RUN_TIMEOUT)
            delay = self.reference.step_seconds[stage.step] / 3
            time.sleep(max(0.0, started + delay - time.monotonic()))
            finished = stage.step in run.finished
            run.kill()
        finally:
            run.stop()
        return Kill(stage, delay, finished)


@pytest.fixture(scope="module")
def chain(reference: Reference) -> KillChain:
    lake = Lake(reference.lake.landing.parent / "killed", reference.lake.landing)
    lake.root.mkdir()
    return KillChain(lake, reference)


@pytest.mark.parametrize("stage", STAGES, ids=[s.name for s in STAGES])
def test_a_run_killed_in_the_middle_of_a_stage_is_completed_by_the_next_run(chain: KillChain, stage: Stage):
    index = STAGES.index(stage)
    chain.advance(index + 2)  # the kill in this stage, and the run after it
    kill = chain.kills[index]
    assert kill.stage == stage
    print(f"killed {kill.after_seconds:.2f} s into {stage.step}" + (" (it had just finished)" if kill.step_had_finished else ""))
    assert_same_tables(stage.outputs(chain.lake), stage.outputs(chain.reference.lake), f"after a kill in {stage.name}", stage.rel_tol)


def test_after_the_last_kill_a_run_ends_with_exactly_the_tables_of_an_uninterrupted_run(chain: KillChain):
    chain.advance(len(STAGES) + 1)
    ours, reference = chain.lake, chain.reference.lake
    assert chain.final_exit_code == chain.reference.exit_code
    for stage in STAGES:
        assert_same_tables(stage.outputs(ours), stage.outputs(reference), f"{stage.name} at the end", stage.rel_tol)
    readers_marts = marts(ours, ours.settings.warehouse), marts(reference, reference.settings.warehouse)
    assert_same_tables(*readers_marts, "readers' marts", SUMMED)
    assert files(ours) == files(reference)


# ---- a full disk, a read-only lake ----------------------------------------------------
# Each case runs in a private mount namespace: its mounts vanish with it. The state the
# failed command left is copied out to `<tmp>/after` and compared with the reference's.

NEW_ORDERS = "order_id,customer_id,order_ts,revenue\nF-1,C-fault-1,2026-09-30,25.0\nF-2,C-fault-2,2026-09-30,40.0\n"
"""A new delivery, so that the failing `ltv run` has something to write."""

PUBLISH_ANOTHER_VERSION = """
import sys
import polars as pl
from ltv_pipeline.core.lake import LakeWriteError
from ltv_pipeline.publish.tables import PUBLISHED_TABLES, publish_tables
from ltv_pipeline.core.settings import load_settings
from ltv_pipeline.core import layout
settings = load_settings()
try:
    tables = {t: pl.read_parquet(layout.published_path(settings, t)).head(1) for t in PUBLISHED_TABLES}
    publish_tables(settings, tables, as_of=settings.as_of, run_id="another-version")
except LakeWriteError as exc:
    sys.exit(f"ltv: error: {exc}")
"""
"""The publish step's write, with other tables than those published (one row each)."""


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stderr: str
    after: Lake
    """The lake and warehouse as the failed command left them."""


def _in_namespace(reference: Reference, root: Path, mounts: str, state: Path, command: str) -> Outcome:
    """`command` on a copy of the reference's lake and warehouse at `state` (made by `mounts` or
    before), with one more delivery in the landing zone; the result is copied to `root/after`."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "--mount", "true"]).returncode != 0:
        pytest.skip("needs unshare and the right to mount (root) to simulate a full disk or a read-only lake")
    landing = root / "landing"
    shutil.copytree(reference.lake.landing, landing)
    (landing / "orders" / "orders_zzzz_fault.csv").write_text(NEW_ORDERS)
    lake = Lake(state, landing)
    env = ltv_env(lake.settings.lake_dir, lake.settings.warehouse, LTV_LANDING_DIR=str(landing), LTV_AS_OF=AS_OF)
    script = f"set -e; {mounts}; set +e; {command} 2> {root}/stderr; echo $? > {root}/exit_code; cp -a {state} {root}/after"
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        env=env, cwd=root, capture_output=True, text=True, timeout=RUN_TIMEOUT,
    )
    assert done.returncode == 0 and (root / "exit_code").exists(), done.stdout + done.stderr
    return Outcome(int((root / "exit_code").read_text()), (root / "stderr").read_text(), Lake(root / "after", landing))


def _on_a_full_disk(reference: Reference, root: Path, command: str, free_bytes: int) -> Outcome:
    """`command` with the reference's lake and warehouse on a tmpfs that has `free_bytes` left."""
    disk, state = root / "disk", root / "disk" / "state"
    disk.mkdir()
    used = sum(p.stat().st_size for p in reference.lake.root.rglob("*") if p.is_file())
    fill = (
        f"import os; s = os.statvfs('{disk}'); f = os.open('{disk}/filler', os.O_CREAT | os.O_WRONLY); "
        f"os.posix_fallocate(f, 0, s.f_bavail * s.f_frsize - {free_bytes})"
    )
    mounts = f'mount -t tmpfs -o size={used + (64 << 20)} ltv-full-disk {disk}; cp -a {reference.lake.root} {state}; {BIN / "python"} -c "{fill}"'
    return _in_namespace(reference, root, mounts, state, command)


def _assert_one_line_error(outcome: Outcome, *fragments: str) -> None:
    lines = outcome.stderr.strip().splitlines()
    assert outcome.exit_code != 0
    assert len(lines) == 1 and lines[0].startswith("ltv: error: "), outcome.stderr
    print(lines[0])
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def _assert_unchanged(before: Lake, after: Lake, *, lake_too: bool) -> None:
    """The readers' warehouse and published Parquet are byte for byte the same, and so are the
    raw tables, quarantine and load log when `lake_too`; no file more, no file less."""
    s = before.settings
    readers = [s.warehouse, *layout.published_dir(s).glob("*.parquet")]
    lake = [*(s.lake_dir / "raw").rglob("*.parquet"), *(s.lake_dir / "quarantine").rglob("*.parquet"), layout.load_log_path(s)]
    for path in readers + (lake if lake_too else []):
        name = path.relative_to(before.root)
        assert (after.root / name).read_bytes() == path.read_bytes(), f"{name} changed"
    assert files(after) == files(before)


def test_a_full_disk_fails_the_run_with_the_path_and_reason_and_changes_nothing(reference: Reference, tmp_path: Path):
    """Not a byte left: the first write of the run (its ingest) fails, and nothing changes."""
    outcome = _on_a_full_disk(reference, tmp_path, f"{BIN / 'ltv'} run", free_bytes=0)
    _assert_one_line_error(outcome, "No space left on device", f"cannot write {tmp_path / 'disk' / 'state' / 'lake'}")
    _assert_unchanged(reference.lake, outcome.after, lake_too=True)


def test_a_disk_filling_up_while_publishing_leaves_readers_every_previous_table(reference: Reference, tmp_path: Path):
    """Room for the new Parquet files but not for the warehouse copy: readers keep the previous
    Parquet files and warehouse alike (not new files next to an old warehouse)."""
    room = layout.build_warehouse(reference.lake.settings).stat().st_size // 2
    outcome = _on_a_full_disk(reference, tmp_path, f"{BIN / 'python'} -c '{PUBLISH_ANOTHER_VERSION}'", free_bytes=room)
    _assert_one_line_error(outcome, "No space left on device", f"cannot write {tmp_path / 'disk' / 'state'}")
    _assert_unchanged(reference.lake, outcome.after, lake_too=True)


def test_a_read_only_lake_fails_the_run_at_once_with_the_path_and_reason(reference: Reference, tmp_path: Path):
    state = tmp_path / "state"
    shutil.copytree(reference.lake.root, state)
    lake_dir = state / "lake"
    read_only = f"mount --bind {lake_dir} {lake_dir}; mount -o remount,bind,ro {lake_dir}"
    outcome = _in_namespace(reference, tmp_path, read_only, state, f"{BIN / 'ltv'} run")
    _assert_one_line_error(outcome, "Read-only file system", f"cannot write {lake_dir}")
    _assert_unchanged(reference.lake, outcome.after, lake_too=True)
