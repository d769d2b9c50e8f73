"""Who is running a piece of background work, and whether that process still lives.

A worker killed outright (SIGKILL, the kernel's out-of-memory killer, a power
cut) cannot say it stopped: its task stays "running" in the database. Work
records the process that runs it as ``host:pid:start``, where ``start`` is the
process's start time in clock ticks since boot (``/proc/<pid>/stat``), so
that a later process with the same pid is not mistaken for the one that
died. Another process on the same host can then tell that the runner is gone
and take the work over (ADR 0018). On another host nothing can be told from
here; that host's own worker recovers its work when it starts again.
"""

from __future__ import annotations

import os
import socket
from enum import Enum
from pathlib import Path

# django-tasks-db keeps worker ids of at most 64 characters.
MAX_IDENTITY_LENGTH = 64


class ProcessState(Enum):
    ALIVE = "alive"
    GONE = "gone"
    ELSEWHERE = "elsewhere"  # on another host, or not an identity this module wrote


def _host() -> str:
    return socket.gethostname()


def _start_ticks(pid: int) -> str | None:
    """Return the start time of process ``pid`` in clock ticks since boot, or None if there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ")".
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":  # a zombie has ended; only its exit status is left
        return None
    return fields[19]  # field 22 of stat(5), counted from field 3


def this_process() -> str:
    """Return this process's identity, ``host:pid:start`` (at most 64 characters)."""
    pid = os.getpid()
    suffix = f":{pid}:{_start_ticks(pid) or 0}"
    return _host()[: MAX_IDENTITY_LENGTH - len(suffix)] + suffix


def process_state(identity: str) -> ProcessState:
    """Return whether the process named by ``identity`` (from ``this_process``) still runs.

    GONE only when it is certain: the identity names this host, and no process
    with that pid and start time exists.
    """
    parts = identity.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[0]:
        return ProcessState.ELSEWHERE
    host, pid, start = parts
    if start == "0":  # written where /proc could not be read: nothing can be told
        return ProcessState.ELSEWHERE
    # A long host name was cut to fit; a short one must match exactly.
    truncated = len(identity) == MAX_IDENTITY_LENGTH
    if host != (_host()[: len(host)] if truncated else _host()):
        return ProcessState.ELSEWHERE
    return ProcessState.ALIVE if _start_ticks(int(pid)) == start else ProcessState.GONE
