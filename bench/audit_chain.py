"""The audit chain on SQLite, run in a process of its own by ``python -m bench``.

  python -m bench.audit_chain --workdir DIR --out FILE [--appends N] [--batched N] [--batch-size N]
                              [--chain N] [--verify-rounds N]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench.common import Measure, setup_django, timed, write_json


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
            fields: dict[str, Any] = {
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_chain")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--appends", type=int, default=2_000)
    parser.add_argument("--batched", type=int, default=4_000)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--chain", type=int, default=50_000)
    parser.add_argument("--verify-rounds", type=int, default=3)
    args = parser.parse_args(argv)
    (args.workdir / "var").mkdir(parents=True, exist_ok=True)
    setup_django(args.workdir / "var", f"sqlite:///{args.workdir / 'audit.sqlite3'}")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    measures, total = run(args.appends, args.batched, args.batch_size, args.chain, args.verify_rounds)
    write_json(args.out, {"measures": measures, "total": total, "batch_size": args.batch_size})


if __name__ == "__main__":
    main()
