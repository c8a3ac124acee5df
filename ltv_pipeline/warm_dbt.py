"""dbt started warm: a process that has already imported dbt forks one child per invocation.

Every `dbt` process spends its first ~2 s importing dbt-core (2.1 s on the 2-core benchmark
machine) before it reads a file, and a run of the pipeline starts dbt twice (the marts and
the daily-partitioned models). A run therefore starts a *warm starter* next to it
(`WarmDbt` through `warm_dbt_for_block`: `run_pipeline` starts it before the definitions
load, the dbt resource's setup when the run has none): a process that imports dbt once,
while the run starts and ingests, then waits on a Unix socket. The dbt resource's
executable is `ltv-dbt` (`main` below, installed as a console script), a small client
that sends its command line, working directory, environment and standard streams to the
starter. The starter forks; the child takes those streams, folder and environment, runs
dbt's own command line (`dbt.cli.main.cli`, what the `dbt` script runs) and reports its
exit code; the client exits with it.
dagster-dbt sees an ordinary dbt process: the same JSON log lines on its stdout, the same
exit code, SIGINT/SIGTERM forwarded to dbt.

Each invocation is still a process of its own, forked from a starter that has run no dbt
command, so nothing of one invocation (flags, adapters, open files, the DuckDB lock)
reaches the next. Without a starter (a `dbt` run by hand, a starter that died) `ltv-dbt`
becomes the `dbt` next to this Python (`os.execv`): slower, never different.

Standard library only at import: the client is started once per dbt invocation.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

SOCKET_ENV = "LTV_WARM_DBT_SOCKET"
"""The starter's socket, in the environment of the run (and so of every dbt it starts)."""

CLIENT = "ltv-dbt"
"""The console script that runs dbt through a warm starter (`main`), installed next to this Python."""

PRELOADED = ("dbt.cli.main", "dbt.adapters.duckdb", "dbt.task.build", "dbt.parser.manifest")
"""Imported by the starter before it serves: what every build imports first (2.1 s together)."""

_HEADER = struct.Struct("!Q")
_READY = b"ready\n"
_STANDARD_STREAMS = (0, 1, 2)


# ---- the client: `ltv-dbt` ------------------------------------------------------------

def installed_client() -> Path | None:
    """`ltv-dbt` next to this Python, where the dbt resource looks for it; None if not installed."""
    client = Path(sys.executable).with_name(CLIENT)
    return client if client.exists() else None


def _real_dbt() -> str:
    return str(Path(sys.executable).with_name("dbt"))


def _connect(path: str) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    return sock


def main() -> int:
    """`ltv-dbt ARGS...`: `dbt ARGS...`, through the run's warm starter when there is one."""
    dbt = _real_dbt()
    argv = [dbt, *sys.argv[1:]]
    path = os.environ.get(SOCKET_ENV)
    sock = _connect(path) if path else None
    if sock is None:
        os.execv(dbt, argv)
    request = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
    forwarded = (signal.SIGINT, signal.SIGTERM)
    signal.pthread_sigmask(signal.SIG_BLOCK, forwarded)  # held until dbt's pid is known
    with sock, sock.makefile("rb") as replies:
        socket.send_fds(sock, [_HEADER.pack(len(request))], list(_STANDARD_STREAMS))
        sock.sendall(request)
        started = replies.readline()
        if not started.startswith(b"pid "):  # the starter went away before forking dbt
            signal.pthread_sigmask(signal.SIG_UNBLOCK, forwarded)
            os.execv(dbt, argv)
        pid = int(started.split()[1])
        for signum in forwarded:
            signal.signal(signum, lambda received, _frame: os.kill(pid, received))
        signal.pthread_sigmask(signal.SIG_UNBLOCK, forwarded)
        ended = replies.readline()
    # no exit line: dbt was killed before it could say (a signal, the OOM killer)
    return int(ended.split()[1]) if ended.startswith(b"exit ") else 1


# ---- the starter ------------------------------------------------------------------------

def _receive_request(conn: socket.socket) -> tuple[dict, list[int]]:
    header, fds, _flags, _address = socket.recv_fds(conn, _HEADER.size, len(_STANDARD_STREAMS))
    header = bytes(header) + _receive_exactly(conn, _HEADER.size - len(header))
    (size,) = _HEADER.unpack(header)
    return json.loads(_receive_exactly(conn, size)), fds


def _receive_exactly(conn: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the client closed the connection mid-request")
        data += chunk
    return bytes(data)


def _exit_code(stop: SystemExit) -> int:
    """The process exit code `sys.exit(stop.code)` would give."""
    if stop.code is None:
        return 0
    if isinstance(stop.code, int):
        return stop.code
    print(stop.code, file=sys.stderr)
    return 1


def _run_dbt(conn: socket.socket) -> int:
    """In the forked child: become the client's dbt process and run its command line."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # dbt's own subprocesses must be waitable
    request, fds = _receive_request(conn)
    for target, fd in zip(_STANDARD_STREAMS, fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = request["argv"]
    for stream in (sys.stdout, sys.stderr):  # now a pipe read line by line (dagster-dbt), not the starter's
        stream.reconfigure(line_buffering=True)
    conn.sendall(f"pid {os.getpid()}\n".encode())
    from dbt.cli.main import cli

    try:
        cli(prog_name="dbt")  # standalone: ends in SystemExit, as the `dbt` script's `sys.exit(cli())`
        code = 0
    except SystemExit as stop:
        code = _exit_code(stop)
    except KeyboardInterrupt:
        code = 130
    except BaseException:
        traceback.print_exc()
        code = 1
    return code


def _child(conn: socket.socket) -> None:
    code = 1
    try:
        code = _run_dbt(conn)
    finally:
        # what an exiting interpreter would do that matters: atexit hooks (Spark's session),
        # logging's files, the streams. dbt has closed its connections (the DuckDB file
        # among them) when its command returns; the rest of an interpreter's teardown,
        # freeing every object one by one, is skipped (0.5 s).
        import atexit
        import logging

        atexit._run_exitfuncs()
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        try:
            conn.sendall(f"exit {code}\n".encode())
        finally:
            os._exit(code)


def _reap(_signum: int, _frame: object) -> None:
    """Wait for the dbt processes that ended (so their CPU time counts as the starter's children's)."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def serve(path: str) -> None:
    """The starter: listen on `path`, import dbt, then fork a dbt per connection until stdin closes.

    It listens before it imports, so a client that comes early waits in the backlog instead
    of falling back to a cold dbt. Stdin is the pipe from the process that started it: when
    that closes (it stopped the starter, or died), the starter exits.
    """
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    sys.stdout.buffer.write(_READY)
    sys.stdout.flush()
    import importlib

    for module in PRELOADED:
        importlib.import_module(module)
    signal.signal(signal.SIGCHLD, _reap)
    while True:
        readable, _, _ = select.select([listener, sys.stdin], [], [])
        if sys.stdin in readable and not os.read(sys.stdin.fileno(), 1024):
            return
        if listener in readable:
            conn, _ = listener.accept()
            if os.fork() == 0:
                listener.close()
                _child(conn)
            conn.close()


class WarmDbt:
    """A warm starter for the duration of a `with` block; its socket is `self.socket`."""

    def __init__(self) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="ltv-warm-dbt-"))
        self.socket = str(self._folder / "socket")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "ltv_pipeline.warm_dbt", self.socket],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        ready = self._process.stdout.readline() if self._process.stdout else b""
        if ready != _READY:
            self.close()
            raise RuntimeError(f"the warm dbt starter did not start (exit code {self._process.poll()})")

    def close(self) -> None:
        """Stop the starter (dbt processes it started run to their end) and remove its socket.

        Terminated rather than left to notice its closed stdin: a starter still importing dbt
        notices only when the import is done, and a block that started dbt nothing (Dagster
        sets the resources up once more after a run) waited ~1 s for that import. The dbt
        processes it forked are processes of their own and go on.
        """
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> WarmDbt:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def warm_dbt_for_block(on_failure: Callable[[Exception], object] | None = None) -> Iterator[None]:
    """Within the block, the dbt commands this process starts through `ltv-dbt` are forked
    from a warm starter, whose socket is in the environment (SOCKET_ENV). Nothing is started
    when a socket is there already (an outer starter serves them, or a caller wants dbt
    cold); when the starter cannot start, dbt starts cold and `on_failure` gets the reason."""
    if SOCKET_ENV in os.environ:
        yield
        return
    try:
        warm = WarmDbt()
    except (OSError, RuntimeError) as exc:
        if on_failure is not None:
            on_failure(exc)
        yield
        return
    os.environ[SOCKET_ENV] = warm.socket
    try:
        yield
    finally:
        os.environ.pop(SOCKET_ENV, None)
        warm.close()


if __name__ == "__main__":
    try:
        serve(sys.argv[1])
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: stop quietly
        pass
    # No interpreter teardown: freeing everything dbt imported takes ~0.4 s, which the
    # owner would wait for in `WarmDbt.close` when stdin closes first. Nothing is buffered.
    os._exit(0)
