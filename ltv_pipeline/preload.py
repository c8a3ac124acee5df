"""Imports that a run needs later, done while one of its steps waits on another process.

`ltv run` executes every step in one process (runner.py), and so do Dagster's runs by
default (run_lock.py). The expectation checks import Great Expectations there, ~2.5 s of
single-threaded import on the run's path, while the dbt steps spend 15-20 s with this
process idle, waiting for dbt. So the runner and the Dagster executor announce what later
steps will import (`announce`), and a step about to wait on a subprocess starts those
imports on a background thread (`import_announced`). Under an executor that runs each step
in a process of its own, the steps' processes hear no announcement (it stays in the process
that made it), and nothing is imported for nothing.
"""

from __future__ import annotations

import importlib
import threading

_announced: list[str] = []


def announce(*modules: str) -> None:
    """Modules that later steps of this process's run will import."""
    _announced.extend(m for m in modules if m not in _announced)


def import_announced() -> threading.Thread | None:
    """Import the announced modules on a daemon thread (none announced: nothing, None).

    A step that imports one of them meanwhile waits for the thread's import to finish
    (Python's per-module import lock), so nothing is ever half-imported.
    """
    if not _announced:
        return None
    modules = list(_announced)
    _announced.clear()
    thread = threading.Thread(target=_import_all, args=(modules,), name="ltv-preload", daemon=True)
    thread.start()
    return thread


def _import_all(modules: list[str]) -> None:
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - the step that needs it raises the error itself, with context
            return
