"""``tongban serve`` runs a background worker beside gunicorn and stops it with gunicorn.

Each test starts the real command in a fresh interpreter, on its own SQLite
database and a free port on 127.0.0.1, as ``make run`` does.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

STARTUP_SECONDS = 60


def _environment(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("TONGBAN_") and key not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(DJANGO_SETTINGS_MODULE="tongban.settings", TONGBAN_VAR_DIR=str(tmp_path),
               DATABASE_URL=f"sqlite:///{tmp_path / 'serve.sqlite3'}")
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> dict[int, str]:
    """Return the processes whose parent is ``pid``, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found[int(entry.name)] = command
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _serve(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tongban.cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--threads", "1"],
        env=_environment(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _wait_until(condition, seconds: float = STARTUP_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/api/v1/kernel/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A folder with a migrated SQLite database (migrating takes a while: once per module)."""
    folder = tmp_path_factory.mktemp("serve")
    subprocess.run([sys.executable, "-m", "tongban.cli", "migrate", "-v", "0"], env=_environment(folder),
                   check=True, timeout=300)
    return folder


def test_serve_runs_a_worker_beside_gunicorn_and_stops_both_on_sigterm(migrated):
    # given
    port = _free_port()
    serve = _serve(migrated, port)
    try:
        # when it has started
        assert _wait_until(lambda: _answers(port)), "gunicorn did not answer"
        children = _children(serve.pid)
        assert any("gunicorn" in command for command in children.values()), children
        assert any("tongban.cli worker" in command for command in children.values()), children
        # and is asked to stop
        serve.send_signal(signal.SIGTERM)
        # then it stops, and so do gunicorn and the worker
        assert serve.wait(timeout=60) == 0
        assert _wait_until(lambda: not any(_alive(pid) for pid in children), seconds=30), children
    finally:
        if serve.poll() is None:
            serve.kill()


def test_serve_stops_gunicorn_when_the_worker_cannot_run(tmp_path):
    # given a database without tables: the worker fails at once
    port = _free_port()
    serve = _serve(tmp_path, port)
    try:
        # then serve stops gunicorn too and reports the failure
        assert serve.wait(timeout=STARTUP_SECONDS) != 0
        assert not _answers(port)
    finally:
        if serve.poll() is None:
            serve.kill()


def test_serve_without_a_worker_runs_gunicorn_alone(migrated):
    port = _free_port()
    env = {**_environment(migrated), "TONGBAN_SERVE_WORKER": "false"}
    serve = subprocess.Popen(
        [sys.executable, "-m", "tongban.cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait_until(lambda: _answers(port)), "gunicorn did not answer"
        assert not any("tongban.cli worker" in command for command in _children(serve.pid).values())
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=60) == 0
    finally:
        if serve.poll() is None:
            serve.kill()
