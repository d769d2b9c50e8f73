"""Licence verification speed (issue 5 §9), offline and over HTTP: ``python -m bench.credentials``.

1. On a throw-away SQLite database in ``--workdir``: the demo org tree, the
   platform CA, an e-seal for every department of both demo cities and the
   demo licence types, set up through the services as ``make run`` seeds them;
   one person in the population registry and a social-security card issued
   to them by Hangzhou's human-resources bureau.
2. Offline, in this process, on that licence's JWT: a relying party's
   ``verify.Verifier`` (made once from the published keys and CA, with the
   issuer's two status lists fetched once and cached), the one-shot
   ``verify.verify_credential`` that parses and checks everything again per
   call, and raw Ed25519 ``public_key.verify(signature, message)`` of the same
   ``cryptography`` library on the same key and signing input. Rounds
   alternate between the three so that a change in the machine's load hits
   each; the median round of each is compared with raw.
3. Over HTTP: ``POST /api/v1/credentials/verify`` with that licence, served
   by gunicorn as ``tongban serve`` does (``bench.gateway.serve``), through the
   load generator (``bench.loadgen``) in another process: latency over one
   connection, throughput over ``--concurrency``. Every answer must be a 200
   saying ``valid`` (the run fails otherwise); the benchmark's settings raise
   the per-address rate limit out of reach (``bench.settings``), and the
   counter must have counted every request. Then, in this process, how long
   the service the API calls takes and how much of it builds the published keys.

  python -m bench.credentials --workdir DIR --out FILE [--offline-seconds S] [--rounds N] ...
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import ROOT, setup_django, write_json

ACTOR_NAME = "bench"
SEED = 20261123
VERIFY_PATH = "/api/v1/credentials/verify"
# What every answer of the verification API must contain (Ninja's JSON has a space after the colon).
VALID = '"outcome": "valid"'


def issue_bench_licence() -> tuple[Any, dict[str, str]]:
    """Set up the CA, seals and licence types, issue one social-security card; return it and its status lists.

    The status lists are returned by URL, as a relying party holds them after
    fetching them once (they are cached for their ``ttl``).
    """
    from tongban.credentials import services as credentials
    from tongban.demo.licences import seed_licence_types
    from tongban.demo.org import build_org_tree
    from tongban.demo.people import DISTRICT_CODES
    from tongban.demo.seals import seed_seals
    from tongban.kernel.actors import SystemActor
    from tongban.kernel.models import Department
    from tongban.registries import services as registries
    from tongban.registries.generator import generate_persons

    actor = SystemActor(ACTOR_NAME)
    org = build_org_tree(actor=actor)
    seed_seals(org)
    seed_licence_types()
    registries.ensure_registry(actor=actor, code="persons", name="人口基础库", name_en="Population registry",
                               owner=org.department("330100", Department.Kind.PUBLIC_SECURITY))
    row = next(generate_persons(1, seed=SEED, district_codes=DISTRICT_CODES))
    person = registries.register_person(actor=actor, reason="Benchmark", **row)
    licence = credentials.issue_licence(
        actor=actor, licence_type="social-security-card", holder=person,
        issuer=org.department("330100", Department.Kind.HUMAN_RESOURCES), reference="BENCH-SSC-0001",
        fields={"card_number": "A00330101", "name": person.name, "id_number": person.id_number,
                "issued_on": "2021-03-01"},
    )
    lists = {}
    for entry in json.loads(_payload(licence.credential))["credentialStatus"]:
        url = entry["statusListCredential"]
        issuer_uscc, _, purpose = url.rpartition("/status/")[2].partition("/")
        published = credentials.status_list_credential(issuer_uscc, purpose)
        if published is None:
            raise SystemExit(f"no status list is published at {url}")
        lists[url] = published
    return licence, lists


def _payload(token: str) -> bytes:
    from tongban.credentials.jose import b64url_decode

    return b64url_decode(token.split(".")[1])


def _rate(work: Callable[[], object], seconds: float) -> dict[str, float]:
    """Call ``work`` repeatedly for about ``seconds``; return the calls, the seconds and the rate."""
    calls, batch = 0, 50
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(batch):
            work()
        calls += batch
        now = time.perf_counter()
        if now >= deadline:
            break
    elapsed = now - started
    return {"calls": calls, "seconds": elapsed, "rate": calls / elapsed}


def measure_offline(licence: Any, lists: dict[str, str], *, seconds: float, rounds: int) -> dict[str, Any]:
    """Compare offline verification with raw Ed25519 verification on the licence's JWT; return the rates.

    ``verifier``: a relying party's ``verify.Verifier``, made once from the
    published keys and CA, with a ``status_from_lists`` over the two status
    lists fetched once (every check is made on every call; what does not
    depend on the credential is parsed and checked once). ``one_shot``: the
    module's ``verify_credential`` with a ``status_from_lists`` made for each
    call, which parses and checks the keys, the CA and the lists again each
    time. ``raw``: ``Ed25519PublicKey.verify`` on the same signature, key and
    signing input. Rounds alternate between the three; the median round of
    each is reported, and the verifier's ratio to raw.
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from tongban.credentials import services as credentials
    from tongban.credentials import verify
    from tongban.credentials.jose import b64url_decode

    token = licence.credential
    jwks, trusted_ca_pem = credentials.published_keys(), credentials.ca_certificates_pem()
    verifier = verify.Verifier(jwks=jwks, trusted_ca_pem=trusted_ca_pem)
    status_of = verify.status_from_lists(lists.__getitem__, jwks=jwks, trusted_ca_pem=trusted_ca_pem)

    def held() -> None:
        verdict = verifier.verify_credential(token, status_of=status_of)
        if not verdict.is_valid:
            raise SystemExit(f"the licence does not verify: {verdict}")

    def one_shot() -> None:
        fresh = verify.status_from_lists(lists.__getitem__, jwks=jwks, trusted_ca_pem=trusted_ca_pem)
        verdict = verify.verify_credential(token, jwks=jwks, trusted_ca_pem=trusted_ca_pem, status_of=fresh)
        if not verdict.is_valid:
            raise SystemExit(f"the licence does not verify: {verdict}")

    signing_input, _, signature = token.rpartition(".")
    message, raw_signature = signing_input.encode("ascii"), b64url_decode(signature)
    kid = json.loads(b64url_decode(token.split(".")[0]))["kid"]
    entry = next(key for key in jwks["keys"] if key["kid"] == kid)
    public_key = Ed25519PublicKey.from_public_bytes(b64url_decode(entry["x"]))

    def raw() -> None:
        public_key.verify(raw_signature, message)  # raises InvalidSignature on a mismatch

    paths = {"raw": raw, "verifier": held, "one_shot": one_shot}
    for work in paths.values():  # warm up; fails loudly, before anything is timed, if the licence does not verify
        _rate(work, min(seconds, 0.5))
    measured: dict[str, list[dict[str, float]]] = {name: [] for name in paths}
    for _round in range(rounds):
        for name, work in paths.items():
            measured[name].append(_rate(work, seconds))
    rates = {name: statistics.median(item["rate"] for item in measured[name]) for name in paths}
    return {
        "seconds": seconds, "rounds": measured, "rates": rates, "ratio": rates["verifier"] / rates["raw"],
        "one_shot_ratio": rates["one_shot"] / rates["raw"], "token_bytes": len(token),
        "published_keys": len(jwks["keys"]), "status_lists": len(lists), "key_algorithm": entry["alg"],
        "cryptography": _version("cryptography"), "jwcrypto": _version("jwcrypto"),
    }


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)


def count_queries(token: str) -> dict[str, int]:
    """Return how many SQL statements (and writes) one verification request runs, through Django's test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    def post() -> Any:
        return Client().post(VERIFY_PATH, {"credential": token}, content_type="application/json",
                             HTTP_HOST="127.0.0.1")

    post()  # once to warm caches, as the server's workers are
    with CaptureQueriesContext(connection) as queries:
        response = post()
    if response.status_code != 200 or response.json()["outcome"] != "valid":
        raise SystemExit(f"the verification API answered {response.status_code}: {response.content[:300]!r}")
    writes = sum(1 for query in queries.captured_queries
                 if query["sql"].lstrip().split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"})
    return {"statements": len(queries.captured_queries), "writes": writes}


def service_times(token: str, calls: int = 200) -> dict[str, float]:
    """Return the median milliseconds, in this process, of what a verification request spends most on.

    ``verify_licence_credential`` is the service the API calls; ``published_keys``
    builds the JWKS it verifies with, from the database, on every call. Calls
    alternate between the two, so that a change in the machine's load hits both.
    """
    from tongban.credentials import services as credentials

    works: dict[str, Callable[[], object]] = {
        "verify_licence_credential_ms": lambda: credentials.verify_licence_credential(token),
        "published_keys_ms": credentials.published_keys,
    }
    seconds: dict[str, list[float]] = {name: [] for name in works}
    for round_ in range(calls + 1):
        for name, work in works.items():
            started = time.perf_counter()
            work()
            if round_:  # the first round warms up
                seconds[name].append(time.perf_counter() - started)
    return {"calls": calls, **{name: statistics.median(values) * 1000 for name, values in seconds.items()}}


def counted_requests() -> int:
    """Return how many verification requests from 127.0.0.1 the rate limit counted, over all its windows."""
    from django.db.models import Sum

    from tongban.kernel.models import RateLimitCounter

    total = RateLimitCounter.objects.filter(key="credential_verify:127.0.0.1").aggregate(total=Sum("count"))
    return int(total["total"] or 0)


def measure_http(token: str, *, var_dir: Path, database_url: str, workdir: Path, options: Any) -> dict[str, Any]:
    """Measure ``POST /api/v1/credentials/verify`` with ``token`` over HTTP; return the figures and the checks.

    ``answers`` counts the requests made and those not answered with a 200
    saying ``valid`` (refused, failed or another outcome), which would make the
    figures worthless; the caller refuses a run with any.
    """
    from django.db import connections

    from bench import gateway

    body, keys = workdir / "verify-body.json", workdir / "keys.txt"
    body.write_text(json.dumps({"credential": token}), encoding="utf-8")
    keys.write_text("-\n", encoding="utf-8")  # the path takes no key
    from tongban import settings as product

    limit, window = product.RATE_LIMITS["credential_verify"]
    result: dict[str, Any] = {"options": options.__dict__, "throughput": [],
                              "product_rate_limit": {"requests": limit, "seconds": window}}
    made = not_valid = 0
    counted_before = counted_requests()
    connections.close_all()  # the phase's connection would hold a lock nobody needs meanwhile
    with gateway.serve(var_dir, database_url, options, workdir / "gunicorn.log") as port:

        def measure(**how: Any) -> dict[str, Any]:
            nonlocal made, not_valid
            figures = _load(port, body, keys, **how)
            made += figures["requests"]
            not_valid += figures["errors"] + figures["unexpected"]  # unexpected: any answer but a 200 saying valid
            return figures

        measure(concurrency=options.concurrency, seconds=2)  # warm up: worker imports, connections, caches
        result["latency"] = measure(concurrency=1, requests=options.latency_requests)
        for _round in range(options.rounds):
            result["throughput"].append(measure(concurrency=options.concurrency, seconds=options.seconds))
    result["throughput_median"] = statistics.median(figures["throughput"] for figures in result["throughput"])
    result["queries"] = count_queries(token)
    result["in_process"] = service_times(token)
    made += 2  # the two requests count_queries made
    result["answers"] = {"made": made, "not_valid": not_valid,
                         "counted_by_rate_limit": counted_requests() - counted_before}
    return result


def _load(port: int, body: Path, keys: Path, *, concurrency: int, seconds: float = 3600,
          requests: int = 0) -> dict[str, Any]:
    """Run the load generator in its own process, POSTing ``body``; return what it measured."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-m", "bench.loadgen", "--port", str(port), "--path", VERIFY_PATH, "--keys", str(keys),
         "--body", str(body), "--expect", VALID, "--concurrency", str(concurrency), "--seconds", str(seconds),
         "--requests", str(requests)],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.credentials")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--offline-seconds", type=float, default=3, help="length of each offline round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per path (the median is reported)")
    parser.add_argument("--http", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--concurrency", type=int, default=16, help="connections of the throughput runs")
    parser.add_argument("--http-seconds", type=float, default=10, help="length of each throughput run")
    parser.add_argument("--latency-requests", type=int, default=1_000, help="requests of the one-connection run")
    parser.add_argument("--server-workers", type=int, default=int(os.environ.get("TONGBAN_WORKERS", "3")))
    parser.add_argument("--server-threads", type=int, default=int(os.environ.get("TONGBAN_THREADS", "4")))
    args = parser.parse_args(argv)

    var_dir = args.workdir / "var"
    var_dir.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{args.workdir.resolve() / 'credentials.sqlite3'}"
    setup_django(var_dir, database_url, settings="bench.settings")
    from django.core.management import call_command

    clock = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    licence, lists = issue_bench_licence()
    result: dict[str, Any] = {"setup_seconds": time.perf_counter() - clock}
    print("verifying the licence offline against raw Ed25519", file=sys.stderr)
    result["offline"] = measure_offline(licence, lists, seconds=args.offline_seconds, rounds=args.rounds)
    write_json(args.out, result)
    if args.http:
        from bench.gateway import Options

        print("verifying the licence over HTTP", file=sys.stderr)
        options = Options(concurrency=args.concurrency, seconds=args.http_seconds,
                          latency_requests=args.latency_requests, rounds=args.rounds,
                          workers=args.server_workers, threads=args.server_threads)
        result["http"] = measure_http(licence.credential, var_dir=var_dir, database_url=database_url,
                                      workdir=args.workdir, options=options)
        answers = result["http"]["answers"]
        if answers["not_valid"]:
            write_json(args.out, result)
            raise SystemExit(f"{answers['not_valid']} of {answers['made']} verification requests were not "
                             f"answered 200 and valid (see {args.out} and {args.workdir / 'gunicorn.log'})")
    result["seconds"] = time.perf_counter() - clock
    write_json(args.out, result)


if __name__ == "__main__":
    main()
