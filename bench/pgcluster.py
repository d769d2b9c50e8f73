"""The benchmark's own throw-away PostgreSQL cluster (scripts/pg-test-cluster.sh in a directory of its own).

Its own data directory and a free port keep it apart from the test suite's
cluster, which may be running at the same time. The test cluster's settings are
for tests (fsync off, 64 MB of shared buffers); for figures that mean something
in production the benchmark makes commits durable again and gives the server
the memory a database server of this size would have.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import ROOT

SCRIPT = ROOT / "scripts" / "pg-test-cluster.sh"
# Appended after the test cluster's own lines, so these win.
SETTINGS = """
# tongban bench: durable commits, as in production
fsync = on
synchronous_commit = on
full_page_writes = on
# memory and checkpoints for a ten-million-row load
shared_buffers = 1GB
effective_cache_size = 8GB
maintenance_work_mem = 512MB
work_mem = 16MB
max_wal_size = 16GB
checkpoint_timeout = 30min
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _script(command: str, env: dict[str, str]) -> str:
    done = subprocess.run(["bash", str(SCRIPT), command], env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def describe() -> str:
    """Return how the cluster is configured, for the report."""
    return "; ".join(line for line in SETTINGS.strip().splitlines() if not line.startswith("#"))


@contextmanager
def throwaway_cluster(directory: Path) -> Iterator[str]:
    """Start a fresh cluster in ``directory``; yield its DATABASE_URL; stop and delete it afterwards."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    if os.getuid() == 0:
        # As root the script runs postgres as the postgres user, who must reach
        # the directory; a temporary work directory is private (0700) otherwise.
        # Let others traverse (not list) the work directory and the database's
        # directory in it (``<workdir>/postgresql/cluster``).
        for path in (directory.parent, directory.parent.parent):
            path.chmod(path.stat().st_mode | 0o011)
    env = {**os.environ, "TONGBAN_PG_TEST_DIR": str(directory), "TONGBAN_PG_TEST_PORT": str(free_port())}
    try:
        _script("fresh", env)
        config = directory / "postgresql.conf"
        with config.open("a", encoding="utf-8") as handle:
            handle.write(SETTINGS)
        _script("stop", env)
        yield _script("start", env)
    finally:
        subprocess.run(["bash", str(SCRIPT), "destroy"], env=env, check=False, capture_output=True)
