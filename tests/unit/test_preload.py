"""Announced imports happen on a background thread, once, and only when announced."""

from __future__ import annotations

import sys
import threading

import pytest

from ltv_pipeline import preload

PROBE = """
import threading
IMPORTED_ON = threading.current_thread().name
"""


@pytest.fixture
def probe_module(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(preload, "_announced", [])
    names = []

    def make(name: str, source: str = PROBE) -> str:
        (tmp_path / f"{name}.py").write_text(source)
        names.append(name)
        return name

    yield make
    for name in names:
        sys.modules.pop(name, None)


def test_nothing_announced_imports_nothing(probe_module):
    assert preload.import_announced() is None


def test_an_announced_module_is_imported_on_a_background_thread_once(probe_module):
    name = probe_module("ltv_preload_probe")
    preload.announce(name, name)
    thread = preload.import_announced()
    assert thread is not None and thread.daemon
    thread.join(timeout=10)
    assert sys.modules[name].IMPORTED_ON == "ltv-preload" != threading.current_thread().name
    assert preload.import_announced() is None  # consumed: a second waiting step imports nothing


def test_a_failing_import_is_left_to_the_step_that_needs_it(probe_module):
    broken = probe_module("ltv_preload_broken", "raise RuntimeError('missing native library')\n")
    preload.announce(broken)
    preload.import_announced().join(timeout=10)
    assert broken not in sys.modules
    with pytest.raises(RuntimeError, match="missing native library"):
        __import__(broken)
