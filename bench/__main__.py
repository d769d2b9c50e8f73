"""``python -m bench`` (``make bench``): scale and speed, written to docs/benchmarks.md.

Every figure comes from one run on one machine, against throw-away databases
(never var/tongban.sqlite3), and is written with the date and the machine.
Benchmarks live here, never as timed assertions in tests. Each part runs in a
process of its own, since Django serves one database per process:

- the audit chain on SQLite (``bench.audit_chain``);
- on SQLite, then on PostgreSQL (a throw-away cluster of its own, started and
  removed here): a province-size person registry with vital events and
  parcels, loaded through ``tongban registry-import`` for the first persons and
  in bulk for the rest; keyed person lookups; the exchange gateway against the
  same lookup served directly, over HTTP (``bench.scale``);
- licence verification on SQLite: the offline verifier against raw Ed25519
  verification in one process, and the verification API over HTTP
  (``bench.credentials``).

The defaults finish in a few minutes; the issue's scale is
``python -m bench --persons-pg 10000000 --persons-sqlite 1000000``
(about an hour on two cores). ``--persons-pg 0`` or ``--persons-sqlite 0`` leaves
a database out, ``--no-audit`` the audit chain and ``--no-credentials`` licence
verification; ``python -m bench --persons-sqlite 0 --persons-pg 0 --no-audit``
measures licence verification alone (about two minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import ROOT, load_average, machine
from bench.pgcluster import describe as describe_cluster
from bench.pgcluster import throwaway_cluster
from bench.report import render

REPORT = ROOT / "docs" / "benchmarks.md"


def _phase(module: str, arguments: list[str], out: Path, *, reused: list[str] | None) -> dict[str, Any]:
    """Run ``python -m <module>`` with ``arguments`` and return the JSON it wrote to ``out``.

    With ``reused`` (``--resume``), a part whose result is already in the work
    directory is not measured again (a long run interrupted after its
    PostgreSQL part, say); it is named in ``reused`` with when it finished.
    """
    if reused is not None and out.exists():
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        measured = datetime.fromtimestamp(out.stat().st_mtime, UTC)
        reused.append(f"{module} {shlex.join(arguments)} (finished {measured:%Y-%m-%d %H:%M} UTC)")
        return result
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    print(f"python -m {module} {shlex.join(arguments)}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", module, *arguments, "--out", str(out)], env=env, cwd=ROOT, check=True)
    result = json.loads(out.read_text(encoding="utf-8"))
    return result


def _scale_arguments(args: argparse.Namespace, persons: int, workdir: Path, database_url: str) -> list[str]:
    return [
        "--database-url", database_url, "--var-dir", str(workdir / "var"), "--workdir", str(workdir),
        "--persons", str(persons), "--service-persons", str(args.service_persons), "--lookups", str(args.lookups),
        "--concurrency", str(args.concurrency), "--gateway-seconds", str(args.gateway_seconds),
        "--latency-requests", str(args.latency_requests), "--rounds", str(args.rounds),
        "--gateway" if args.gateway else "--no-gateway",
    ]


def measure(args: argparse.Namespace, workdir: Path, reused: list[str] | None) -> dict[str, Any]:
    """Run every part into ``workdir``; return their results by name (see ``_phase`` for ``reused``)."""
    results: dict[str, Any] = {}
    if args.audit:
        audit_dir = workdir / "audit"
        audit_dir.mkdir(parents=True, exist_ok=True)
        results["audit"] = _phase("bench.audit_chain", [
            "--workdir", str(audit_dir), "--appends", str(args.appends), "--batched", str(args.batched),
            "--batch-size", str(args.batch_size), "--chain", str(args.chain),
            "--verify-rounds", str(args.verify_rounds),
        ], audit_dir / "result.json", reused=reused)
    if args.credentials:
        directory = workdir / "credentials"
        directory.mkdir(parents=True, exist_ok=True)
        results["credentials"] = _phase("bench.credentials", [
            "--workdir", str(directory), "--offline-seconds", str(args.offline_seconds), "--rounds", str(args.rounds),
            "--concurrency", str(args.concurrency), "--http-seconds", str(args.verify_seconds),
            "--latency-requests", str(args.latency_requests),
        ], directory / "result.json", reused=reused)
    if args.cases:
        results["cases"] = {}
        for database in ("sqlite", "postgresql"):
            directory = workdir / "cases" / database
            (directory / "var").mkdir(parents=True, exist_ok=True)
            out = directory / "result.json"
            arguments = ["--workdir", str(directory), "--rounds", str(args.rounds), "--concurrency",
                         str(args.cases_concurrency), "--seconds", str(args.cases_seconds), "--latency-requests",
                         str(args.cases_latency_requests)]
            if database == "sqlite" or (reused is not None and out.exists()):
                results["cases"][database] = _phase("bench.cases", arguments, out, reused=reused)
            else:
                with throwaway_cluster(directory / "cluster") as url:
                    results["cases"][database] = _phase("bench.cases", [*arguments, "--database-url", url], out,
                                                        reused=reused)
    if args.persons_sqlite:
        directory = workdir / "sqlite"
        (directory / "var").mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{directory / 'registry.sqlite3'}"
        results["sqlite"] = _phase("bench.scale", _scale_arguments(args, args.persons_sqlite, directory, url),
                                   directory / "result.json", reused=reused)
    if args.persons_pg:
        directory = workdir / "postgresql"
        (directory / "var").mkdir(parents=True, exist_ok=True)
        out = directory / "result.json"
        if reused is not None and out.exists():
            arguments = _scale_arguments(args, args.persons_pg, directory, "postgres://…")
            results["postgresql"] = _phase("bench.scale", arguments, out, reused=reused)
        else:
            with throwaway_cluster(directory / "cluster") as url:
                arguments = _scale_arguments(args, args.persons_pg, directory, url)
                results["postgresql"] = _phase("bench.scale", arguments, out, reused=reused)
        results["postgresql"]["cluster"] = describe_cluster()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    scale = parser.add_argument_group("registry, lookups and gateway")
    scale.add_argument("--persons-sqlite", type=int, default=100_000, help="persons on SQLite (0: skip)")
    scale.add_argument("--persons-pg", type=int, default=200_000, help="persons on PostgreSQL (0: skip)")
    scale.add_argument("--service-persons", type=int, default=5_000,
                       help="persons (with their events and parcels) imported through registry-import")
    scale.add_argument("--lookups", type=int, default=10_000, help="keyed lookups timed")
    scale.add_argument("--gateway", action=argparse.BooleanOptionalAction, default=True)
    scale.add_argument("--concurrency", type=int, default=16, help="connections of the throughput runs")
    scale.add_argument("--gateway-seconds", type=float, default=10, help="length of each throughput run")
    scale.add_argument("--latency-requests", type=int, default=1_000, help="requests of each one-connection run")
    scale.add_argument("--rounds", type=int, default=3, help="throughput runs per path (the median is reported)")
    licences = parser.add_argument_group("licence verification (with --concurrency, --latency-requests, --rounds)")
    licences.add_argument("--credentials", action=argparse.BooleanOptionalAction, default=True)
    licences.add_argument("--offline-seconds", type=float, default=3, help="length of each offline round")
    licences.add_argument("--verify-seconds", type=float, default=10, help="length of each HTTP throughput run")
    applying = parser.add_argument_group("one-stop applications (with --rounds)")
    applying.add_argument("--cases", action=argparse.BooleanOptionalAction, default=True)
    applying.add_argument("--cases-concurrency", type=int, default=8, help="connections of the throughput runs")
    applying.add_argument("--cases-seconds", type=float, default=10, help="length of each throughput run")
    applying.add_argument("--cases-latency-requests", type=int, default=200, help="applications over one connection")
    chain = parser.add_argument_group("audit chain")
    chain.add_argument("--audit", action=argparse.BooleanOptionalAction, default=True)
    chain.add_argument("--appends", type=int, default=2_000, help="records appended one per transaction")
    chain.add_argument("--batched", type=int, default=4_000, help="records appended in batches")
    chain.add_argument("--batch-size", type=int, default=200)
    chain.add_argument("--chain", type=int, default=50_000, help="chain length to verify")
    chain.add_argument("--verify-rounds", type=int, default=3)
    parser.add_argument("--workdir", type=Path, help="keep the databases and results here (default: a "
                        "temporary directory, removed afterwards)")
    parser.add_argument("--resume", action="store_true", help="with --workdir: reuse the results of parts "
                        "already measured there instead of measuring them again")
    parser.add_argument("--note", default="", help="a remark for the Machine line (say, other work that ran "
                        "on the machine meanwhile)")
    parser.add_argument("--output", type=Path, default=REPORT, help="where to write the report")
    args = parser.parse_args(argv)
    reused: list[str] | None = [] if args.resume and args.workdir is not None else None

    started = datetime.now(UTC)
    clock = time.perf_counter()
    context = {"date": started, "machine": machine(), "load": load_average(), "note": args.note,
               "command": shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])}
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        results = measure(args, args.workdir.resolve(), reused)
    else:
        with tempfile.TemporaryDirectory(prefix="tongban-bench-") as workdir:
            print(f"Temporary databases in {workdir}", file=sys.stderr)
            results = measure(args, Path(workdir), None)
    context["elapsed"] = time.perf_counter() - clock
    context["load_after"] = load_average()
    context["reused"] = reused or []
    report = render(results, context)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report, encoding="utf-8")
    print(report)
    print(f"Written to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
