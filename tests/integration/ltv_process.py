"""Start `ltv` (or `dagster`) as a real process group, follow its steps, and kill it for real.

`ltv run --log-level DEBUG` logs Dagster's STEP_START / STEP_SUCCESS events; a reader thread
timestamps every line as it arrives, so a test can wait for a step to start and SIGKILL the
whole group (the run and its dbt process) at a chosen moment inside it.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

BIN = Path(sys.executable).parent
STEP_EVENT = re.compile(r'(STEP_START|STEP_SUCCESS) - \w+ execution of step "([^"]+)"')


def ltv_env(lake: Path, warehouse: Path, **extra: str) -> dict[str, str]:
    """This environment without any LTV_/DAGSTER_ setting of the developer's, pointed at `lake`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LTV_", "DAGSTER_"))}
    env.update({
        "LTV_LAKE_DIR": str(lake), "LTV_WAREHOUSE": str(warehouse), "LTV_MODE": "demo",
        "PYTHONUNBUFFERED": "1", "OMP_WAIT_POLICY": "PASSIVE", **extra,
    })
    return env


class Process:
    """A command running in its own process group, its output read line by line as it comes."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path):
        self.argv = argv
        self.popen = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            errors="replace", start_new_session=True,
        )
        self.lines: list[str] = []
        self.started: dict[str, float] = {}
        self.finished: dict[str, float] = {}
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            now = time.monotonic()
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                event = STEP_EVENT.search(line)
                if event:
                    (self.started if event[1] == "STEP_START" else self.finished)[event[2]] = now
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.lines[-lines:])

    def wait_for_step(self, step: str, timeout: float) -> float:
        """When `step` started (monotonic time); fails if the process ends or times out first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while step not in self.started:
                remaining = deadline - time.monotonic()
                if self.popen.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(f"{self.argv} ended ({self.popen.returncode}) before step {step}:\n{self.tail()}")
                if remaining <= 0:
                    raise AssertionError(f"step {step} did not start within {timeout:.0f} s:\n{self.tail()}")
                self._changed.wait(min(remaining, 1.0))
            return self.started[step]

    def kill(self) -> None:
        """SIGKILL the whole group, as a crash or `kill -9` of the run's process group would."""
        assert self.popen.poll() is None, f"{self.argv} had already ended:\n{self.tail()}"
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)
        wait_group_gone(self.popen.pid)
        self._reader.join(timeout=10)

    def finish(self, timeout: float) -> int:
        """Wait for the process to end by itself; its exit code."""
        try:
            code = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"{self.argv} did not finish within {timeout:.0f} s:\n{self.tail()}") from None
        self._reader.join(timeout=10)
        return code

    def stop(self) -> None:
        """Kill what is left of the group, if anything (test clean-up)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=30)


def wait_group_gone(pgid: int, timeout: float = 30.0) -> None:
    """Until no live process of group `pgid` is left (zombies hold no file or lock any more)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _live_members(pgid):
            return
        time.sleep(0.05)
    raise AssertionError(f"processes of group {pgid} still alive after SIGKILL: {_live_members(pgid)}")


def _live_members(pgid: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            state, group = fields[0], int(fields[2])
            if group == pgid and state not in ("Z", "X"):
                members.append(int(stat.parent.name))
    return members
