"""``python -m bench`` (``make bench``): measure the audit chain on SQLite.

Every figure comes from one run on one machine, against a temporary database
(never var/tongban.sqlite3), and is written to docs/benchmarks.md with the date
and the machine. Benchmarks live here, never as timed assertions in tests.

  python -m bench [--appends N] [--batched N] [--batch-size N] [--chain N] [--verify-rounds N]
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "benchmarks.md"


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


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} logical CPUs; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}"
    )


def configure(workdir: Path) -> None:
    """Point Tongban at a throw-away SQLite database and key directory, then set up Django."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "tongban.settings"
    os.environ["TONGBAN_VAR_DIR"] = str(workdir)
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.pop("TONGBAN_ENV", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def extend_chain_quickly(count: int) -> None:
    """Append ``count`` well-formed records in bulk (for the verification figure only)."""
    from django.db import transaction
    from django.utils import timezone

    from tongban.kernel.audit import compute_hash
    from tongban.kernel.models import AuditChainHead, AuditRecord

    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().get(id=1)
        seq, prev_hash = head.last_seq, head.last_hash
        batch: list[AuditRecord] = []
        for n in range(count):
            seq += 1
            fields = {
                "seq": seq, "occurred_at": timezone.now(), "actor": "system:bench",
                "action": "bench.bulk", "target": f"row:{n}", "source_address": "",
                "result": "success", "details": {"n": n}, "prev_hash": prev_hash,
            }
            prev_hash = compute_hash(**fields)
            batch.append(AuditRecord(**fields, record_hash=prev_hash))
            if len(batch) == 2_000:
                AuditRecord.objects.bulk_create(batch)
                batch = []
        AuditRecord.objects.bulk_create(batch)
        head.last_seq, head.last_hash = seq, prev_hash
        head.save(update_fields=["last_seq", "last_hash"])


def run(
    appends: int, batched: int, batch_size: int, chain: int, verify_rounds: int
) -> tuple[list[Measure], int]:
    from django.db import transaction

    from tongban.kernel import audit
    from tongban.kernel.models import AuditRecord

    def append_each() -> None:
        # One transaction per record, as a sign-in or a registry change appends.
        for n in range(appends):
            audit.record("bench.event", actor="system:bench", target=f"thing:{n}", details={"n": n})

    def append_batched() -> None:
        # Many records per transaction, as a bulk import appends.
        for start in range(0, batched, batch_size):
            with transaction.atomic():
                for n in range(start, min(start + batch_size, batched)):
                    audit.record("bench.import", actor="system:bench", target=f"row:{n}", details={"n": n})

    measures = [
        timed("append, one transaction per record", appends, append_each),
        timed(f"append, {batch_size} records per transaction", batched, append_batched),
    ]
    extend_chain_quickly(max(0, chain - AuditRecord.objects.count()))
    total = AuditRecord.objects.count()
    for _ in range(verify_rounds):
        verify = timed("verify the whole chain (`tongban audit verify`)", total, audit.verify_chain)
        measures.append(verify)
    if audit.verify_chain() is not None:
        raise SystemExit("the benchmark chain does not verify")
    return measures, total


def best_verify(measures: list[Measure]) -> Measure:
    return max((m for m in measures if m.name.startswith("verify")), key=lambda m: m.rate)


def render(measures: list[Measure], total: int, started: datetime, elapsed: float) -> str:
    single, batched = measures[0], measures[1]
    verify = best_verify(measures)
    lines = [
        "# Benchmarks",
        "",
        "Measured by `make bench` (`python -m bench`) in one run; rerun it to refresh this page.",
        "The figures depend on the machine; compare ratios between runs, not figures between machines.",
        "",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine()}",
        "- Database: SQLite file in a temporary directory, WAL, `synchronous=NORMAL`, "
        "`BEGIN IMMEDIATE` transactions (the `make run` settings)",
        f"- Run time: {elapsed:.1f} s",
        "",
        "## Audit chain",
        "",
        "| Operation | Records | Seconds | Records/s |",
        "|---|---:|---:|---:|",
    ]
    for m in [single, batched, verify]:
        lines.append(f"| {m.name} | {m.records:,} | {m.seconds:.2f} | {m.rate:,.0f} |")
    lines += [
        "",
        "Ratios from this run:",
        "",
        f"- Batched appends run at {batched.rate / single.rate:.1f}× the rate of one transaction per record.",
        f"- Verification runs at {verify.rate / single.rate:.0f}× the single-append rate; at this rate a "
        f"chain of one million records verifies in about {1_000_000 / verify.rate:.0f} s.",
        "",
        f"Verification read {total:,} records in primary-key order and recomputed every SHA-256 "
        "link (best of the verify rounds). Appends serialize on the chain head (its row lock; on SQLite "
        "the write lock), so the append rate is also the ceiling for many concurrent writers.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=2_000, help="records appended one per transaction")
    parser.add_argument("--batched", type=int, default=4_000, help="records appended in batches")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--chain", type=int, default=50_000, help="chain length to verify")
    parser.add_argument("--verify-rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, default=REPORT, help="where to write the report")
    args = parser.parse_args(argv)

    started = datetime.now(UTC)
    clock = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tongban-bench-") as workdir:
        print(f"Temporary database in {workdir}", file=sys.stderr)
        configure(Path(workdir))
        measures, total = run(args.appends, args.batched, args.batch_size, args.chain, args.verify_rounds)
        from django.db import connections

        connections.close_all()
    report = render(measures, total, started, time.perf_counter() - clock)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report, encoding="utf-8")
    print(report)
    print(f"Written to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
