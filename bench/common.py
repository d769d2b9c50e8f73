"""What every benchmark phase shares: timing, percentiles, the machine line, Django set-up."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Measure:
    name: str
    records: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else float("inf")


def timed(name: str, records: int, work: Callable[[], object]) -> Measure:
    started = time.perf_counter()
    work()
    return Measure(name, records, time.perf_counter() - started)


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Return the nearest-rank percentile of already sorted values (0.5 is the median)."""
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """Return count, p50, p99, mean and max of latencies given in seconds, in milliseconds."""
    ordered = sorted(seconds)
    return {
        "count": len(ordered),
        "p50_ms": percentile(ordered, 0.50) * 1000,
        "p99_ms": percentile(ordered, 0.99) * 1000,
        "mean_ms": sum(ordered) / len(ordered) * 1000 if ordered else float("nan"),
        "max_ms": ordered[-1] * 1000 if ordered else float("nan"),
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 1024**2:.0f} GiB RAM"
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} logical CPUs{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}"
    )


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def setup_django(var_dir: Path, database_url: str, *, settings: str = "tongban.settings") -> None:
    """Point Tongban at ``database_url`` with its keys in ``var_dir``, then set up Django.

    Must run before anything imports Django models; every process of one
    database's phase (the phase, its workers, the server) uses the same
    ``var_dir`` so that they share the data master key and the blind indexes match.
    """
    os.environ["DJANGO_SETTINGS_MODULE"] = settings
    os.environ["TONGBAN_VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("TONGBAN_ENV", None)
    import django

    django.setup()


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, default=_jsonable), encoding="utf-8")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Measure):
        return {**asdict(value), "rate": value.rate}
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
