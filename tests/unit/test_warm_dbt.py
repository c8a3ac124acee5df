"""`ltv-dbt` through a warm starter must be the `dbt` it replaces: same output, exit code,
working folder and environment; and it must fall back to a cold dbt when no starter serves."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ltv_pipeline import warm_dbt
from ltv_pipeline.marts.project import dbt_project
from ltv_pipeline.warm_dbt import SOCKET_ENV, WarmDbt

BIN = Path(sys.executable).parent
LTV_DBT = BIN / "ltv-dbt"
DBT = BIN / "dbt"

pytestmark = pytest.mark.skipif(not LTV_DBT.exists(), reason="the package's console scripts are not installed")


def _run(executable: Path, args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(executable), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def warm():
    with WarmDbt() as starter:
        yield starter


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != SOCKET_ENV}
    return {**env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **extra}


def test_a_command_through_the_starter_prints_and_exits_as_dbt_does(warm: WarmDbt, tmp_path: Path):
    profiles = tmp_path / "profiles-here"
    env = _env(DBT_PROFILES_DIR=str(profiles))
    for args in (["debug", "--config-dir"], ["no-such-command"]):
        cold = _run(DBT, args, env, tmp_path)
        hot = _run(LTV_DBT, args, {**env, SOCKET_ENV: warm.socket}, tmp_path)
        assert (hot.returncode, _without_clock(hot.stdout), hot.stderr) == (cold.returncode, _without_clock(cold.stdout), cold.stderr)
        if args[0] == "debug":
            assert hot.returncode == 0 and str(profiles) in hot.stdout  # the caller's environment reached dbt
        else:
            assert hot.returncode == 2 and "No such command" in hot.stderr


def _without_clock(text: str) -> str:
    """dbt's text log starts lines with the time of day."""
    return "\n".join(line.split("  ", 1)[-1] for line in text.splitlines())


def _dbt_pid(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, int]:
    """(pid of the `ltv-dbt` process, pid dbt reports in its JSON log)."""
    process = subprocess.Popen([str(LTV_DBT), "--log-format", "json", *args], env=env, cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return process.pid, json.loads(out.splitlines()[0])["info"]["pid"]


def test_each_command_runs_in_a_new_process_forked_from_the_starter(warm: WarmDbt, tmp_path: Path):
    env = _env(**{SOCKET_ENV: warm.socket})
    first_client, first_dbt = _dbt_pid(["debug", "--config-dir"], env, tmp_path)
    second_client, second_dbt = _dbt_pid(["debug", "--config-dir"], env, tmp_path)
    # not the client itself (a fallback execs dbt in the client's process), not the starter,
    # and not one process serving both
    assert first_dbt not in (first_client, warm._process.pid, second_dbt)
    assert second_dbt not in (second_client, warm._process.pid)


def test_without_a_starter_ltv_dbt_is_the_cold_dbt(tmp_path: Path):
    gone = str(tmp_path / "no-starter-here")
    for env in (_env(), _env(**{SOCKET_ENV: gone})):
        client, dbt = _dbt_pid(["debug", "--config-dir"], env, tmp_path)
        assert dbt == client  # dbt itself, exec'd in place of the client


def test_the_starter_exits_when_the_process_that_started_it_dies(tmp_path: Path):
    owner = subprocess.run(
        [sys.executable, "-c", "import os; from ltv_pipeline.warm_dbt import WarmDbt; "
         "w = WarmDbt(); print(w._process.pid, flush=True); os._exit(0)"],
        capture_output=True, text=True, check=True,
    )
    pid = int(owner.stdout.split()[0])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    assert not _alive(pid)


def test_closing_the_starter_leaves_the_dbt_it_started_running_to_its_end(tmp_path: Path):
    """`close` terminates the starter (it may still be importing dbt); a dbt forked from it
    is a process of its own and ends as it would have."""
    project = str(dbt_project().project_dir)
    starter = WarmDbt()
    client = subprocess.Popen(
        [str(LTV_DBT), "--log-format", "json", "parse", "--no-partial-parse", "--project-dir", project,
         "--profiles-dir", project, "--target-path", str(tmp_path / "target")],
        env=_env(**{SOCKET_ENV: starter.socket, "LTV_WAREHOUSE": str(tmp_path / "w.duckdb"), "LTV_LAKE_DIR": str(tmp_path)}),
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first = json.loads(client.stdout.readline())  # dbt has started parsing (seconds of work)
        assert _alive(first["info"]["pid"])  # still running when its starter goes
        starter.close()
        assert not _alive(starter._process.pid)
        out, err = client.communicate(timeout=120)
    finally:
        client.kill()
    assert client.returncode == 0, err
    assert first["info"]["pid"] != client.pid  # a dbt forked from the starter, not the client
    assert (tmp_path / "target" / "manifest.json").exists()  # what the whole parse writes last


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_the_client_forwards_sigterm_to_the_dbt_it_started(tmp_path: Path):
    # a stand-in starter whose "dbt" is a sleeping process: the client must pass the
    # signal on to it and exit with the code the starter reports
    sleeper = subprocess.Popen(["sleep", "60"])
    path = str(tmp_path / "socket")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    pid_sent = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            _request, fds = warm_dbt._receive_request(conn)
            for fd in fds:
                os.close(fd)
            conn.sendall(f"pid {sleeper.pid}\n".encode())
            pid_sent.set()
            ended = sleeper.wait(timeout=60)
            conn.sendall(f"exit {128 - ended if ended < 0 else ended}\n".encode())

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    client = subprocess.Popen([str(LTV_DBT), "build"], env=_env(**{SOCKET_ENV: path}))
    try:
        assert pid_sent.wait(timeout=30)
        time.sleep(0.5)  # the client reads the pid line; a signal before that is held, not lost
        client.send_signal(signal.SIGTERM)
        assert client.wait(timeout=30) == 128 + signal.SIGTERM
        assert sleeper.wait(timeout=5) == -signal.SIGTERM
    finally:
        sleeper.kill()
        client.kill()
        listener.close()


def test_a_block_serves_its_dbt_commands_from_one_starter_and_stops_it(tmp_path: Path, monkeypatch):
    """What `run_pipeline` wraps a run in: the socket is in the environment only inside the
    block, every `ltv-dbt` there is forked from that starter, and the starter ends with it."""
    monkeypatch.delenv(SOCKET_ENV, raising=False)
    with warm_dbt.warm_dbt_for_block():
        socket_path = os.environ[SOCKET_ENV]
        client, dbt = _dbt_pid(["debug", "--config-dir"], _env(**{SOCKET_ENV: socket_path}), tmp_path)
        assert dbt != client
    assert SOCKET_ENV not in os.environ
    assert not Path(socket_path).exists()


def test_a_block_inside_another_starts_no_starter_of_its_own(monkeypatch):
    """The dbt resource, set up inside a `run_pipeline` that started one, keeps the outer one;
    a socket set on purpose to nothing (`--cold-dbt`) also starts none."""
    monkeypatch.setenv(SOCKET_ENV, "/outer/socket")
    monkeypatch.setattr(warm_dbt, "WarmDbt", lambda: pytest.fail("a second starter was started"))
    with warm_dbt.warm_dbt_for_block():
        assert os.environ[SOCKET_ENV] == "/outer/socket"
    assert os.environ[SOCKET_ENV] == "/outer/socket"


def test_a_starter_that_cannot_start_leaves_dbt_cold_and_says_why(monkeypatch):
    monkeypatch.delenv(SOCKET_ENV, raising=False)

    def broken():
        raise RuntimeError("the warm dbt starter did not start (exit code 1)")

    monkeypatch.setattr(warm_dbt, "WarmDbt", broken)
    reasons: list[Exception] = []
    with warm_dbt.warm_dbt_for_block(on_failure=reasons.append):
        assert SOCKET_ENV not in os.environ
    assert [str(r) for r in reasons] == ["the warm dbt starter did not start (exit code 1)"]
