"""One-stop applications end to end (issue 6 §8): ``python -m bench.cases``.

1. A throw-away database (SQLite in ``--workdir``, or ``--database-url``) is
   seeded as ``make run`` seeds the demo region (``tongban seed-demo``); the
   Hangzhou market-regulation bureau's case system gets its grant of the
   persons resource if the demo has not given it one, and an adult demo
   person gets a real-name verified account with an access token of the
   ``api`` scope.
2. Over HTTP, served by gunicorn as ``tongban serve`` does: ``POST
   /api/v1/cases`` applies for business establishment registration
   (``330100-C-XK-0001``, instant approval) with the articles of association
   uploaded (multipart) and a new ``Idempotency-Key`` per request. Each answer
   must be a 201 saying ``approved``: behind it the form was checked, the PDF
   checked by content and scanned, the legal representative's identity read
   from the population registry through the gateway (one signed call-log
   record), the process started and decided by the DMN rule, the business
   registered with a new USCC and its business licence signed with the
   bureau's e-seal (vc+jwt and SD-JWT VC, status list indexes), the applicant
   notified (inbox and outbox rows) — all in one transaction. Latency over one
   connection; throughput over ``--concurrency``.
3. In this process: the cost of one process step (``bench.workflow``'s
   measurements of the engine: start and run to the first task, complete one
   task, save and restore), and the time of one submission in the service.

  python -m bench.cases --workdir DIR --out FILE [--database-url URL] [--rounds N] ...
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import ROOT, setup_django, write_json

ITEM = "330100-C-XK-0001"
CASES_PATH = "/api/v1/cases"
APPROVED = '"status": "approved"'
BOUNDARY = "tongban-bench-boundary"


def _articles_pdf() -> bytes:
    from io import BytesIO

    from reportlab.pdfgen import canvas

    buffer = BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Articles of association (bench)")
    page.showPage()
    page.save()
    return buffer.getvalue()


def multipart_body(form: dict[str, Any]) -> bytes:
    """Return the multipart body of an application with the articles PDF (boundary BOUNDARY)."""
    parts = [
        (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="item"\r\n\r\n{ITEM}\r\n').encode(),
        (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="form"\r\n\r\n').encode()
        + json.dumps(form, ensure_ascii=False).encode() + b"\r\n",
        (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="material-公司章程"; filename="articles.pdf"\r\n'
         "Content-Type: application/pdf\r\n\r\n").encode() + _articles_pdf() + b"\r\n",
        f"--{BOUNDARY}--\r\n".encode(),
    ]
    return b"".join(parts)


def prepare() -> tuple[str, dict[str, Any]]:
    """Seed the demo, grant the case system, make an applicant; return their bearer token and the form."""
    import secrets
    from datetime import date

    from django.core.management import call_command
    from django.utils import timezone
    from oauth2_provider.models import AccessToken

    from tongban.catalog import services as catalog
    from tongban.catalog.models import CatalogResource
    from tongban.identity import services as identity
    from tongban.identity.models import Account, Role
    from tongban.kernel import services as kernel
    from tongban.kernel.actors import SystemActor
    from tongban.kernel.models import Department
    from tongban.registries.models import Person

    call_command("seed_demo", verbosity=0)
    platform = SystemActor("bench")
    kernel.load_holiday_arrangements(actor=platform)
    market = Department.objects.get(region__code="330100", kind=Department.Kind.MARKET_REGULATION)
    fields = ["id_number", "name", "status"]
    if catalog.department_grant(department_id=market.pk, resource_code="hz-persons", fields=fields,
                                at=timezone.now()) is None:
        system, _secret = identity.register_department_system(actor=platform, department=market,
                                                               name="Bench case handling", redirect_uris=None)
        resource = CatalogResource.objects.get(code="hz-persons")
        requester = identity.create_officer(actor=platform, username="bench-market-data",
                                            password=secrets.token_urlsafe(16), department=market,
                                            roles=[Role.DATA_OFFICER])
        request = catalog.request_access(actor=requester, resource=resource, fields=fields,
                                         purpose="政务服务办件材料核验", legal_basis="《优化营商环境条例》",
                                         valid_until=timezone.now() + timedelta(days=30), system=system)
        if request.status != "approved":
            owner = identity.create_officer(actor=platform, username="bench-police-data",
                                            password=secrets.token_urlsafe(16), department=resource.owner,
                                            roles=[Role.DATA_OFFICER])
            catalog.approve_request(request, actor=owner)
    taken = Account.objects.filter(person__isnull=False).values_list("person_id", flat=True)
    person = (Person.objects.filter(status="living", birth_date__lte=date(1990, 1, 1)).exclude(pk__in=taken)
              .order_by("pk").first())
    if person is None:
        raise SystemExit("the demo has no adult person without an account")
    account = identity.register_citizen(username=f"bench-{person.pk}", password=secrets.token_urlsafe(16),
                                        name=person.name, id_number=person.id_number)
    token = secrets.token_urlsafe(32)
    AccessToken.objects.create(user=account, token=token, scope="api openid",
                               expires=timezone.now() + timedelta(hours=6))
    form = {"entity_name": "杭州基准科技有限公司", "entity_type": "limited_company", "registered_capital": 100,
            "address": "杭州市西湖区文三路 1 号", "business_scope": "软件开发", "legal_representative": person.name,
            "legal_representative_id": person.id_number}
    return token, form


def _load(port: int, body: Path, keys: Path, token: str, run: str, *, concurrency: int, seconds: float = 3600,
          requests: int = 0) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "BENCH_AUTHORIZATION": f"Bearer {token}"}
    done = subprocess.run(
        [sys.executable, "-m", "bench.loadgen", "--port", str(port), "--path", CASES_PATH, "--keys", str(keys),
         "--body", str(body), "--content-type", f"multipart/form-data; boundary={BOUNDARY}",
         "--header", f"Idempotency-Key: {run}-{{n}}", "--expect", APPROVED, "--expect-status", "201",
         "--concurrency", str(concurrency), "--seconds", str(seconds), "--requests", str(requests)],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def measure_http(token: str, form: dict[str, Any], *, var_dir: Path, database_url: str, workdir: Path,
                 options: Any) -> dict[str, Any]:
    """Apply over HTTP; return latency, throughput rounds and how many answers were not 201 approved."""
    from django.db import connections

    from bench import gateway

    body, keys = workdir / "application.multipart", workdir / "keys.txt"
    body.write_bytes(multipart_body(form))
    keys.write_text("-\n", encoding="utf-8")
    result: dict[str, Any] = {"options": options.__dict__, "throughput": []}
    made = not_approved = 0
    connections.close_all()
    with gateway.serve(var_dir, database_url, options, workdir / "gunicorn.log") as port:

        def measure(**how: Any) -> dict[str, Any]:
            nonlocal made, not_approved
            figures = _load(port, body, keys, token, uuid.uuid4().hex[:12], **how)
            made += figures["requests"]
            not_approved += figures["errors"] + figures["unexpected"]
            return figures

        measure(concurrency=2, requests=20)  # warm up
        result["latency"] = measure(concurrency=1, requests=options.latency_requests)
        for _round in range(options.rounds):
            result["throughput"].append(measure(concurrency=options.concurrency, seconds=options.seconds))
    result["throughput_median"] = statistics.median(figures["throughput"] for figures in result["throughput"])
    result["answers"] = {"made": made, "not_approved": not_approved}
    return result


def count_results() -> dict[str, int]:
    """Return how many approved cases, issued business licences and registered businesses the run left."""
    from tongban.cases.models import Case
    from tongban.credentials.models import Licence
    from tongban.registries.models import LegalEntity

    return {
        "approved_cases": Case.objects.filter(item__code=ITEM, status="approved").count(),
        "business_licences": Licence.objects.filter(licence_type__code="business-licence",
                                                    reference__startswith="330100-").count(),
        "businesses": LegalEntity.objects.filter(name="杭州基准科技有限公司").count(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cases")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--database-url", help="default: a SQLite file in --workdir")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--latency-requests", type=int, default=200)
    parser.add_argument("--step-rounds", type=int, default=500, help="repetitions per process step measured")
    parser.add_argument("--server-workers", type=int, default=int(os.environ.get("TONGBAN_WORKERS", "3")))
    parser.add_argument("--server-threads", type=int, default=int(os.environ.get("TONGBAN_THREADS", "4")))
    args = parser.parse_args(argv)

    var_dir = args.workdir / "var"
    var_dir.mkdir(parents=True, exist_ok=True)
    database_url = args.database_url or f"sqlite:///{args.workdir.resolve() / 'cases.sqlite3'}"
    setup_django(var_dir, database_url, settings="bench.settings")
    from django.core.management import call_command

    clock = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    print("seeding the demo region", file=sys.stderr)
    token, form = prepare()
    result: dict[str, Any] = {"setup_seconds": time.perf_counter() - clock,
                              "database": "postgresql" if database_url.startswith("postgres") else "sqlite"}
    before = count_results()
    from bench.gateway import Options

    print("applying over HTTP", file=sys.stderr)
    options = Options(concurrency=args.concurrency, seconds=args.seconds, latency_requests=args.latency_requests,
                      rounds=args.rounds, workers=args.server_workers, threads=args.server_threads)
    result["http"] = measure_http(token, form, var_dir=var_dir, database_url=database_url, workdir=args.workdir,
                                  options=options)
    after = count_results()
    result["results"] = {name: after[name] - before[name] for name in after}
    answers = result["http"]["answers"]
    write_json(args.out, result)
    if answers["not_approved"]:
        raise SystemExit(f"{answers['not_approved']} of {answers['made']} applications were not answered 201 "
                         f"approved (see {args.out} and {args.workdir / 'gunicorn.log'})")
    from bench import workflow

    print("measuring process steps in this process", file=sys.stderr)
    result["steps"] = workflow.measure(args.step_rounds)
    result["seconds"] = time.perf_counter() - clock
    write_json(args.out, result)


if __name__ == "__main__":
    main()
