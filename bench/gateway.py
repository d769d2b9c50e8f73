"""The exchange gateway against the same lookup served directly, over real HTTP.

A department system (the Hangzhou tax bureau's) gets a grant of three person
fields, name masked, as a data officer would request and the registry's owner
approve it. gunicorn serves the app as ``tongban serve`` does (same command,
workers and threads), with ``bench.settings`` for the direct route; the load
generator runs in another process on loopback. Each path is measured twice:
one connection at a time (latency without queueing, hence the gateway's cost
per call) and ``concurrency`` connections (throughput). Runs alternate between
the two paths so that a change in the machine's load hits both.

Afterwards the call log must hold exactly one record per gateway call made,
linked into the chain in the order of the calls without gaps, and verify
(``verify_call_log``).
"""

from __future__ import annotations

import base64
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import ROOT
from bench.pgcluster import free_port

PURPOSE = "Tax registration check"
FIELDS = "name,birth_date,address_region"
MASKING = {"name": "name"}
PASSWORD = "Bench-Officer-Pass-2026!"


@dataclass(frozen=True)
class Options:
    concurrency: int
    seconds: float
    latency_requests: int
    rounds: int
    workers: int
    threads: int


def grant_tax_system(org: Any, actor: Any) -> tuple[str, str]:
    """Register the tax bureau's case system with a grant of FIELDS; return its client id and secret."""
    from django.utils import timezone

    from tongban.catalog import services as catalog
    from tongban.demo.catalog import PERSONS_RESOURCE
    from tongban.identity import services as identity
    from tongban.identity.models import Role
    from tongban.kernel.models import Department

    tax = org.department("330100", Department.Kind.TAX)
    police = org.department("330100", Department.Kind.PUBLIC_SECURITY)
    requester = identity.create_officer(actor=actor, username="bench-tax-data", password=PASSWORD,
                                        department=tax, roles=[Role.DATA_OFFICER])
    owner = identity.create_officer(actor=actor, username="bench-police-data", password=PASSWORD,
                                    department=police, roles=[Role.DATA_OFFICER])
    system, secret = identity.register_department_system(actor=actor, department=tax, name="Bench tax case system",
                                                         redirect_uris=None)
    resource = catalog.find_resource(PERSONS_RESOURCE)
    if resource is None:
        raise SystemExit(f"the catalog has no {PERSONS_RESOURCE} resource")
    request = catalog.request_access(actor=requester, resource=resource, fields=FIELDS.split(","), purpose=PURPOSE,
                                     legal_basis="Tax Collection Administration Law, art. 15",
                                     valid_until=timezone.now() + timedelta(days=2), system=system)
    catalog.approve_request(request, actor=owner, masking=MASKING)
    return system.application.client_id, secret


@contextmanager
def serve(var_dir: Path, database_url: str, options: Options, log: Path) -> Iterator[int]:
    """Run ``tongban serve`` with the benchmark's settings on a free loopback port; yield the port."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "TONGBAN_VAR_DIR": str(var_dir),
        "DATABASE_URL": database_url,
        "TONGBAN_WORKERS": str(options.workers),
        "TONGBAN_THREADS": str(options.threads),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    with log.open("ab") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "tongban.cli", "serve", "--bind", f"127.0.0.1:{port}"],
            env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(port, server)
        yield port
    finally:
        server.terminate()  # gunicorn stops its workers gracefully on SIGTERM
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_up(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}; see its log")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 60 s")


def fetch_token(port: int, client_id: str, secret: str) -> str:
    """Return a client-credentials access token with the ``api`` scope from the running server."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/o/token/",
        data=urllib.parse.urlencode({"grant_type": "client_credentials", "scope": "api"}).encode(),
        headers={"Authorization": f"Basic {basic}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.load(response)["access_token"])


def paths(resource: str) -> dict[str, str]:
    query = urllib.parse.urlencode({"fields": FIELDS, "purpose": PURPOSE})
    return {
        "gateway": f"/exchange/v1/{resource}/{{key}}?{query}&case_id=BENCH-{{n}}",
        "direct": f"/bench/direct/{resource}/{{key}}?{query}&case_id=BENCH-{{n}}",
    }


def load(port: int, path: str, keys: Path, *, concurrency: int, seconds: float = 3600, requests: int = 0,
         authorization: str = "") -> dict[str, Any]:
    """Run the load generator in its own process and return what it measured."""
    env = {**os.environ, "BENCH_AUTHORIZATION": authorization,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-m", "bench.loadgen", "--port", str(port), "--path", path, "--keys", str(keys),
         "--concurrency", str(concurrency), "--seconds", str(seconds), "--requests", str(requests)],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def count_queries(resource: str, key: str, token: str) -> dict[str, int]:
    """Return how many SQL statements one call of each path runs (in this process, Django's test client)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for name, template in paths(resource).items():
        url = template.format(key=key, n="queries")
        headers: dict[str, Any] = {"HTTP_HOST": "127.0.0.1"}
        if name == "gateway":
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        Client().get(url, **headers)  # once to warm caches, as the server's workers are
        with CaptureQueriesContext(connection) as queries:
            response = Client().get(url, **headers)
        if response.status_code != 200:
            raise SystemExit(f"{name} answered {response.status_code}: {response.content[:300]!r}")
        # A batch of statements sent in one round trip (the call log's append on
        # PostgreSQL) is captured as one query: count the statements in it.
        statements = [part.strip() for query in queries.captured_queries for part in query["sql"].split(";")
                      if part.strip()]
        counts[name] = len(statements)
        counts[f"{name}_round_trips"] = len(queries.captured_queries)
        counts[f"{name}_writes"] = sum(
            1 for statement in statements if statement.split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}
        )
    return counts


def check_call_log(before: tuple[int, int], calls: int) -> dict[str, Any]:
    """Check that the log grew by exactly ``calls`` records and, once chained, holds them in order and verifies.

    The chainer links the records committed since its last run (the signing
    task did during the run; ``checkpoint_now`` links the rest and signs them).
    """
    from tongban.exchange import services as exchange
    from tongban.exchange.models import CallLogHead, CallLogLink, CallLogRecord
    from tongban.kernel.actors import SystemActor

    records_before, last_id = before
    exchange.checkpoint_now(actor=SystemActor("bench"))
    records = CallLogRecord.objects.count()
    new = list(CallLogRecord.objects.filter(id__gt=last_id).order_by("id").values_list("id", "outcome"))
    links = list(CallLogLink.objects.filter(record_id__gt=last_id).order_by("seq").values_list("seq", "record_id"))
    first_seq = links[0][0] if links else 0
    head = CallLogHead.objects.get(id=1).last_seq
    started = time.perf_counter()
    broken = exchange.verify_call_log()
    verify_seconds = time.perf_counter() - started
    return {
        "calls_made": calls,
        "records_added": records - records_before,
        "in_order_without_gaps": (
            [record_id for record_id, _outcome in new] == [record_id for _seq, record_id in links]
            and [seq for seq, _record in links] == list(range(first_seq, first_seq + len(links)))
        ),
        "head_matches": head == (links[-1][0] if links else head),
        "refused": sum(1 for _id, outcome in new if outcome != "ok"),
        "verified": broken is None,
        "break": str(broken) if broken else "",
        "records_verified": CallLogLink.objects.count(),
        "verify_seconds": verify_seconds,
    }


def log_position() -> tuple[int, int]:
    from django.db.models import Max

    from tongban.exchange.models import CallLogRecord

    return CallLogRecord.objects.count(), int(CallLogRecord.objects.aggregate(last=Max("id"))["last"] or 0)


def run(*, org: Any, actor: Any, keys: list[str], var_dir: Path, database_url: str, workdir: Path,
        options: Options) -> dict[str, Any]:
    """Measure both paths as the module docstring says; return the figures and the call-log check."""
    from django.db import connections

    from tongban.demo.catalog import PERSONS_RESOURCE

    client_id, secret = grant_tax_system(org, actor)
    keys_file = workdir / "keys.txt"
    keys_file.write_text("\n".join(keys) + "\n", encoding="utf-8")
    routes = paths(PERSONS_RESOURCE)
    before = log_position()
    gateway_calls = 0
    result: dict[str, Any] = {"options": options.__dict__, "latency": {}, "throughput": {"direct": [], "gateway": []}}
    # The phase's own connection would hold a pool slot and locks nobody needs meanwhile.
    connections.close_all()
    with serve(var_dir, database_url, options, workdir / "gunicorn.log") as port:

        def measure(name: str, **how: Any) -> dict[str, Any]:
            nonlocal gateway_calls
            # A fresh token each time: tokens last ten minutes, a full run longer.
            authorization = f"Bearer {fetch_token(port, client_id, secret)}" if name == "gateway" else ""
            figures = load(port, routes[name], keys_file, authorization=authorization, **how)
            if name == "gateway":
                gateway_calls += figures["requests"]
            if figures["errors"] or set(figures["statuses"]) != {"200"}:
                raise SystemExit(f"{name}: not every request was answered with 200: {figures}")
            return figures

        # Warm up both paths: worker imports, connection pools, caches.
        for name in ("direct", "gateway"):
            measure(name, concurrency=options.concurrency, seconds=2)
        for name in ("direct", "gateway"):
            result["latency"][name] = measure(name, concurrency=1, requests=options.latency_requests)
        for _round in range(options.rounds):
            for name in ("direct", "gateway"):
                result["throughput"][name].append(
                    measure(name, concurrency=options.concurrency, seconds=options.seconds)
                )
        token = fetch_token(port, client_id, secret)
    result["queries"] = count_queries(PERSONS_RESOURCE, keys[0], token)
    gateway_calls += 2  # the two calls count_queries made
    result["call_log"] = check_call_log(before, gateway_calls)
    for name in ("direct", "gateway"):
        rounds = result["throughput"][name]
        result[f"{name}_throughput"] = statistics.median(figures["throughput"] for figures in rounds)
    return result
