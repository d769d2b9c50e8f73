"""docs/benchmarks.md from the results of one ``python -m bench`` run."""

from __future__ import annotations

import statistics
from typing import Any

# Issue 4 §6: what the gateway may cost.
OVERHEAD_TARGET_MS = 1.0
THROUGHPUT_TARGET = 0.60
# Issue 5 §9: offline licence verification against raw Ed25519 verification.
OFFLINE_VERIFY_TARGET = 0.50
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
FILES = {
    "persons": "persons",
    "marriages": "marriages and divorces",
    "births-deaths": "births and deaths",
    "real-property": "parcels with ownership shares",
}


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _ms(value: float) -> str:
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"


def _verdict(met: bool) -> str:
    return "**met**" if met else "**missed**"


def _median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(rounds, key=lambda figures: figures["throughput"])
    return ordered[(len(ordered) - 1) // 2]


def gateway_ratios(gateway: dict[str, Any]) -> dict[str, float]:
    latency = gateway["latency"]
    direct = statistics.median(r["throughput"] for r in gateway["throughput"]["direct"])
    through = statistics.median(r["throughput"] for r in gateway["throughput"]["gateway"])
    return {
        "overhead_p50": latency["gateway"]["p50_ms"] - latency["direct"]["p50_ms"],
        "overhead_p99": latency["gateway"]["p99_ms"] - latency["direct"]["p99_ms"],
        "throughput_share": through / direct if direct else 0.0,
        "direct": direct,
        "gateway": through,
    }


def _log_ok(log: dict[str, Any]) -> bool:
    return bool(log["calls_made"] == log["records_added"] and log["in_order_without_gaps"]
                and log["head_matches"] and log["verified"])


def _targets(results: dict[str, Any]) -> list[str]:
    lines = ["## Targets (issue 4 §6)", "", "| Target | Database | Measured | |", "|---|---|---|---|"]
    for key in ("postgresql", "sqlite"):
        part = results.get(key)
        if not part or "gateway" not in part:
            continue
        name, ratios, log = NAMES[key], gateway_ratios(part["gateway"]), part["gateway"]["call_log"]
        lines += [
            f"| gateway overhead at p50 ≤ {OVERHEAD_TARGET_MS:.0f} ms | {name} | {_ms(ratios['overhead_p50'])} | "
            f"{_verdict(ratios['overhead_p50'] <= OVERHEAD_TARGET_MS)} |",
            f"| gateway throughput ≥ {THROUGHPUT_TARGET:.0%} of direct | {name} | {ratios['throughput_share']:.0%} | "
            f"{_verdict(ratios['throughput_share'] >= THROUGHPUT_TARGET)} |",
            f"| one log record per call, no gaps, in order, log verifies | {name} | "
            f"{_n(log['calls_made'])} calls, {_n(log['records_added'])} records | {_verdict(_log_ok(log))} |",
        ]
    return [*lines, ""] if len(lines) > 4 else []


def _registry(results: dict[str, Any]) -> list[str]:
    parts = [(key, results[key]) for key in ("sqlite", "postgresql") if results.get(key)]
    if not parts:
        return []
    lines = [
        "## A province-size registry",
        "",
        "Persons come from the registries' deterministic generator "
        "(`tongban.registries.generator`, one seed); their births, marriages, divorces, deaths and "
        "parcels (held by one person, a married couple in halves or three persons in thirds) from a plan "
        "that fits them (`bench/population.py`). Two paths, reported apart:",
        "",
        "- **Real import path**: the first persons and everything planned for them are written to CSV "
        "files and imported with `tongban registry-import` (file parsing, every validation and lookup, "
        "all or nothing, one audit record per 5,000-row batch). This is the import rate an operator gets.",
        "- **Bulk load**: the rest of the same generated stream, written straight into the tables as the "
        "services would write them — the ID number encrypted and blind-indexed by the CryptoProvider, a "
        "history entry per record with the number masked, one audit record per 5,000-row batch — with "
        "COPY on PostgreSQL and `executemany` on SQLite, encryption in one worker process per CPU. It "
        "skips the per-row validation and lookups (the rows are valid by construction), so it is not the "
        "rate of the import command; it is how the benchmark reaches full size.",
        "",
        "### Import through `tongban registry-import`",
        "",
        "| Database | File | Records | Seconds | Records/s |",
        "|---|---|---:|---:|---:|",
    ]
    for key, part in parts:
        for m in part["service_import"]:
            lines.append(f"| {NAMES[key]} | {FILES[m['name']]} | {_n(m['records'])} | {m['seconds']:.1f} | "
                         f"{_n(m['rate'])} |")
    lines += [
        "",
        "### Bulk load to full size",
        "",
        "| Database | What | Records | Rows written | Seconds | Records/s | Rows written/s |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for key, part in parts:
        plan = part["bulk_plan"]
        for m in part["bulk_load"]:
            written = {
                "persons": 2 * m["records"],  # the person and its history entry
                "marriages": m["records"],
                # a death also updates the person and adds a history entry
                "births-deaths": m["records"] + 2 * plan["deaths"],
                "real-property": 2 * m["records"] + plan["shares"],  # parcel, history, shares
            }[m["name"]]
            lines.append(f"| {NAMES[key]} | {FILES[m['name']]} | {_n(m['records'])} | {_n(written)} | "
                         f"{m['seconds']:.1f} | {_n(m['rate'])} | {_n(written / m['seconds'] if m['seconds'] else 0)} |")
    lines += ["", "| Database | " + " | ".join(next(iter(parts))[1]["table_rows"]) + " | Size | Load time |",
              "|---|" + "---:|" * (len(next(iter(parts))[1]["table_rows"]) + 2)]
    for key, part in parts:
        rows = " | ".join(_n(value) for value in part["table_rows"].values())
        lines.append(f"| {NAMES[key]} | {rows} | {part['database_bytes'] / 1024**3:.1f} GiB | "
                     f"{part['load_seconds'] / 60:.1f} min |")
    lines += [
        "",
        "Load time is everything up to the first lookup: migrations, the import command, the bulk load, "
        "planning the events and parcels, and "
        + ("`VACUUM (ANALYZE)`" if any(key == "postgresql" for key, _ in parts) else "`ANALYZE`")
        + " afterwards.",
        "",
    ]
    for key, part in parts:
        if "audit_chain_verified" in part:
            state = "verifies" if part["audit_chain_verified"] else "**does not verify**"
            lines += [f"On {NAMES[key]} the audit chain after the load ({_n(part['table_rows']['audit records'])} "
                      f"records, one per batch) {state} (`tongban audit verify`).", ""]
    return lines


def _lookups(results: dict[str, Any]) -> list[str]:
    parts = [(key, results[key]) for key in ("sqlite", "postgresql") if results.get(key, {}).get("lookup")]
    if not parts:
        return []
    lines = [
        "## Keyed person lookup",
        "",
        "`registries.services.find_person_by_id_number`, as the app and the gateway call it: the blind "
        "index of the number (HMAC-SHA256), one indexed query with the region joined, the number "
        "decrypted. Sampled persons spread over the whole table, in random order, in one process on a "
        "warm database.",
        "",
        "| Database | Persons | Lookups | p50 | p99 | Mean |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, part in parts:
        lookup = part["lookup"]
        lines.append(f"| {NAMES[key]} | {_n(part['table_rows']['persons'])} | {_n(lookup['count'])} | "
                     f"{_ms(lookup['p50_ms'])} | {_ms(lookup['p99_ms'])} | {_ms(lookup['mean_ms'])} |")
    return [*lines, ""]


def _gateway(results: dict[str, Any]) -> list[str]:
    parts = [(key, results[key]) for key in ("sqlite", "postgresql") if results.get(key, {}).get("gateway")]
    if not parts:
        return []
    options = parts[0][1]["gateway"]["options"]
    lines = [
        "## Exchange gateway against the direct lookup",
        "",
        "A department system calls `GET /exchange/v1/hz-persons/{ID number}?fields=name,birth_date,"
        "address_region&purpose=…&case_id=…` with its client-credentials token, under a grant of those "
        "fields with the name masked. The direct path, `GET /bench/direct/hz-persons/{ID number}?…`, "
        "exists only in the benchmark's URLconf (`bench/urls.py`): the same key check, lookup, fields "
        "and masking, without token, grant, rate-limit counter or call log. Both are served by gunicorn "
        f"started as `tongban serve` does ({options['workers']} workers × {options['threads']} threads) on "
        "127.0.0.1; the load generator (`bench/loadgen.py`, keep-alive connections) runs in another process "
        "on the same two CPUs, which it shares with the server and the database. Keys are the sampled "
        "persons, cycled. The benchmark's settings raise the per-client rate limit out of reach (every call "
        "is still counted in the database).",
        "",
        f"Latency is measured over one connection ({_n(options['latency_requests'])} requests per path), "
        f"so it holds no queueing; throughput over {options['concurrency']} connections for "
        f"{options['seconds']:.0f} s, {options['rounds']} rounds per path alternating with the other path "
        "(the median round is shown).",
        "",
        "| Database | Path | p50, 1 connection | p99, 1 connection | Calls/s, "
        f"{options['concurrency']} connections | p50 | p99 | SQL statements per call |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, part in parts:
        gateway = part["gateway"]
        for path in ("direct", "gateway"):
            one, many = gateway["latency"][path], _median_round(gateway["throughput"][path])
            queries = gateway["queries"]
            lines.append(
                f"| {NAMES[key]} | {path} | {_ms(one['p50_ms'])} | {_ms(one['p99_ms'])} | "
                f"{_n(statistics.median(r['throughput'] for r in gateway['throughput'][path]))} | "
                f"{_ms(many['p50_ms'])} | {_ms(many['p99_ms'])} | {queries[path]} "
                f"({queries[path + '_writes']} writes"
                + (f"; {queries[path + '_round_trips']} round trips"
                   if queries.get(path + "_round_trips", queries[path]) != queries[path] else "")
                + ") |"
            )
    lines += ["", "Ratios from this run:", ""]
    for key, part in parts:
        ratios, log = gateway_ratios(part["gateway"]), part["gateway"]["call_log"]
        spread = {path: [r["throughput"] for r in part["gateway"]["throughput"][path]] for path in ("direct", "gateway")}
        lines += [
            f"- {NAMES[key]}: the gateway adds {_ms(ratios['overhead_p50'])} at p50 and "
            f"{_ms(ratios['overhead_p99'])} at p99 (target ≤ {OVERHEAD_TARGET_MS:.0f} ms at p50: "
            f"{_verdict(ratios['overhead_p50'] <= OVERHEAD_TARGET_MS)}); it serves "
            f"{ratios['throughput_share']:.0%} of the direct throughput (target ≥ {THROUGHPUT_TARGET:.0%}: "
            f"{_verdict(ratios['throughput_share'] >= THROUGHPUT_TARGET)}). Throughput rounds: direct "
            + ", ".join(_n(value) for value in spread["direct"]) + "; gateway "
            + ", ".join(_n(value) for value in spread["gateway"]) + " calls/s.",
            f"- {NAMES[key]} call log: {_n(log['calls_made'])} gateway calls made (warm-up, latency, "
            f"throughput and the query count), {_n(log['records_added'])} records added, "
            + ("numbered without gaps in insertion order, " if log["in_order_without_gaps"] else
               "**not** numbered without gaps in insertion order, ")
            + f"{_n(log['refused'])} refused; `verify_call_log` "
            + ("found no break" if log["verified"] else f"found a break: {log['break']}")
            + f" ({_n(log['records_verified'])} records, {log['verify_seconds']:.2f} s).",
        ]
    return [*lines, ""]


def _licence_verification(part: dict[str, Any]) -> list[str]:
    offline = part["offline"]
    rates, rounds = offline["rates"], offline["rounds"]
    lines = [
        "## Licence verification",
        "",
        f"Target (issue 5 §9): offline verification of a licence JWT at ≥ {OFFLINE_VERIFY_TARGET:.0%} of the rate "
        f"of raw Ed25519 verifications of the same library: {offline['ratio']:.0%}, "
        f"{_verdict(offline['ratio'] >= OFFLINE_VERIFY_TARGET)}.",
        "",
        "A throw-away SQLite database is set up as `make run` seeds the demo (the platform CA, an e-seal for "
        f"every department of both cities, so {offline['published_keys']} published keys, the demo licence "
        f"types), and a social-security card is issued to one person ({_n(offline['token_bytes'])}-byte "
        "`vc+jwt`, EdDSA). In one process, rounds of "
        f"{offline['seconds']:.0f} s alternate between three ways of checking it ({len(rounds['raw'])} rounds "
        "each; the median round is shown): **raw**, `Ed25519PublicKey.verify(signature, signing input)` of "
        f"`cryptography` {offline['cryptography']} on the seal's key; **verifier**, a relying party's "
        "`verify.Verifier` made once from the published keys and CA, with `status_from_lists` over the "
        "issuer's two status lists fetched once — every call checks the signature, the key, the "
        "certificate's validity at the issue time, the issuer, the validity and both statuses, while the "
        "keys' certificates and chains to the CA and each list's signature are checked once, when first "
        "met; **one-shot**, the module function `verify_credential` with a `status_from_lists` made for the "
        "call, which checks the key's chain and both lists' signatures again every time.",
        "",
        "| Offline | Verifications/s | Of raw | Rounds |",
        "|---|---:|---:|---|",
    ]
    for name, label in (("raw", "raw Ed25519"), ("verifier", "verifier (kept)"), ("one_shot", "one-shot")):
        lines.append(f"| {label} | {_n(rates[name])} | {rates[name] / rates['raw']:.0%} | "
                     + ", ".join(_n(r["rate"]) for r in rounds[name]) + " |")
    http = part.get("http")
    if http:
        options, latency = http["options"], http["latency"]
        many = _median_round(http["throughput"])
        answers, product_limit = http["answers"], http["product_rate_limit"]
        lines += [
            "",
            "Over HTTP, `POST /api/v1/credentials/verify` with the same licence, served by gunicorn started "
            f"as `tongban serve` does ({options['workers']} workers × {options['threads']} threads) on "
            "127.0.0.1, the load generator in another process on the same CPUs. Each request reads the "
            "published keys (built once per set of keys in force and kept in the shared cache) and the CA "
            "from the database, reads both status lists from it and verifies them "
            f"({http['queries']['statements']} SQL statements, {http['queries']['writes']} a write: the "
            "per-address rate-limit counter). The benchmark's settings raise that limit "
            f"({_n(product_limit['requests'])} requests per {product_limit['seconds']} s in the product) out of "
            "reach (`bench/settings.py`); every request is still counted. Latency over "
            f"one connection ({_n(options['latency_requests'])} requests); throughput over "
            f"{options['concurrency']} connections, {options['rounds']} runs of {options['seconds']:.0f} s "
            "(the median run is shown).",
            "",
            f"| HTTP | p50, 1 connection | p99, 1 connection | Requests/s, {options['concurrency']} connections "
            "| p50 | p99 |",
            "|---|---:|---:|---:|---:|---:|",
            f"| verify | {_ms(latency['p50_ms'])} | {_ms(latency['p99_ms'])} | {_n(http['throughput_median'])} | "
            f"{_ms(many['p50_ms'])} | {_ms(many['p99_ms'])} |",
            "",
            f"Of the {_n(answers['made'])} requests made (warm-up, latency, throughput and the statement count), "
            + ("every one was" if not answers["not_valid"] else f"**{_n(answers['not_valid'])} were not**")
            + " answered 200 with the outcome `valid`; the rate limit counted "
            f"{_n(answers['counted_by_rate_limit'])}. Throughput runs: "
            + ", ".join(_n(r["throughput"]) for r in http["throughput"]) + " requests/s.",
        ]
        if "in_process" in http:
            spent = http["in_process"]
            lines += [
                "",
                f"Where a request's time goes, measured in the benchmark's own process (median of "
                f"{_n(spent['calls'])} calls): `verify_licence_credential`, the service the API calls, takes "
                f"{_ms(spent['verify_licence_credential_ms'])}, of which {_ms(spent['published_keys_ms'])} read the "
                f"published keys ({offline['published_keys']} keys, from the shared cache).",
            ]
    return [*lines, ""]


def _audit(audit: dict[str, Any]) -> list[str]:
    measures = audit["measures"]
    single, batched = measures[0], measures[1]
    verify = max((m for m in measures if m["name"].startswith("verify")), key=lambda m: m["rate"])
    lines = [
        "## Audit chain",
        "",
        "SQLite file in a temporary directory, WAL, `synchronous=NORMAL`, `BEGIN IMMEDIATE` transactions "
        "(the `make run` settings).",
        "",
        "| Operation | Records | Seconds | Records/s |",
        "|---|---:|---:|---:|",
    ]
    for m in (single, batched, verify):
        lines.append(f"| {m['name']} | {_n(m['records'])} | {m['seconds']:.2f} | {_n(m['rate'])} |")
    lines += [
        "",
        "Ratios from this run:",
        "",
        f"- Batched appends run at {batched['rate'] / single['rate']:.1f}× the rate of one transaction per record.",
        f"- Verification runs at {verify['rate'] / single['rate']:.0f}× the single-append rate; at this rate a "
        f"chain of one million records verifies in about {1_000_000 / verify['rate']:.0f} s.",
        "",
        f"Verification read {_n(audit['total'])} records in primary-key order and recomputed every SHA-256 "
        "link (best of the verify rounds). Appends serialize on the chain head (its row lock; on SQLite "
        "the write lock), so the append rate is also the ceiling for many concurrent writers.",
        "",
    ]
    return lines


def _applications(parts: dict[str, Any]) -> list[str]:
    lines = [
        "## One-stop applications: submit → instant approval → licence",
        "",
        "Issue 6 §8. On a throw-away database seeded as `make run` seeds the demo region, an adult demo citizen "
        "applies through `POST /api/v1/cases` (multipart, a new `Idempotency-Key` each time, bearer token) for "
        "business establishment registration with the articles of association uploaded. Each answer must be a "
        "201 saying `approved`; behind each: the form checked against the item's schema, the PDF checked by "
        "content and scanned, the legal representative's identity read from the population registry through "
        "the gateway (a call-log record), the process run and decided by the DMN rule, the business registered "
        "with a new USCC, the business licence signed with the bureau's e-seal (vc+jwt and SD-JWT VC), the "
        "applicant's notices written; one transaction. Served by gunicorn as `tongban serve` does; latency over "
        "one connection, throughput over several (the median of the rounds).",
        "",
        "| Database | p50, 1 connection | p99, 1 connection | Cases/s | p50 | p99 | Approved | Licences |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, part in parts.items():
        http = part["http"]
        latency = http["latency"]
        rounds = sorted(http["throughput"], key=lambda figures: figures["throughput"])
        middle = rounds[len(rounds) // 2]
        made = part["results"]
        lines.append(
            f"| {'PostgreSQL' if name == 'postgresql' else 'SQLite'} | {latency['p50_ms']:.1f} ms | "
            f"{latency['p99_ms']:.1f} ms | {http['throughput_median']:.1f} | {middle['p50_ms']:.1f} ms | "
            f"{middle['p99_ms']:.1f} ms | {_n(made['approved_cases'])} | {_n(made['business_licences'])} |"
        )
    lines.append("")
    any_part = next(iter(parts.values()))
    steps = any_part.get("steps") or {}
    if steps:
        lines += [
            "The cost of one process step, in the benchmark's process (`bench.workflow`, median µs):",
            "",
            "| Step | µs |",
            "|---|---:|",
            *(f"| {name} | {value:,.0f} |" for name, value in steps.items() if not name.endswith("bytes")
              and not name.startswith(("same expression", "expression in a", "script:"))),
            "",
        ]
    return lines


def render(results: dict[str, Any], context: dict[str, Any]) -> str:
    """Return the whole page."""
    databases = []
    if results.get("sqlite"):
        databases.append(f"{results['sqlite']['database']} file (WAL, `synchronous=NORMAL`, `BEGIN IMMEDIATE`: "
                         "the `make run` settings)")
    if results.get("postgresql"):
        databases.append(f"{results['postgresql']['database']}, a throw-away cluster on 127.0.0.1 started by "
                         f"the benchmark ({results['postgresql'].get('cluster', '')})")
    lines = [
        "# Benchmarks",
        "",
        "Measured by `make bench` (`python -m bench`) in one run; rerun it to refresh this page.",
        "The figures depend on the machine; compare ratios between runs, not figures between machines.",
        "",
        f"- Date: {context['date']:%Y-%m-%d %H:%M} UTC",
        f"- Command: `{context['command']}`",
        f"- Machine: {context['machine']}; load average {context['load']} at the start and "
        f"{context['load_after']} at the end (1, 5, 15 min)" + (f"; {context['note']}" if context.get("note") else ""),
        *(f"- Database: {database}" for database in databases),
        f"- Run time: {context['elapsed'] / 60:.1f} min",
        *(f"- Reused from an earlier run in the same work directory (`--resume`): `python -m {part}`"
          for part in context.get("reused", [])),
        "",
    ]
    lines += _targets(results)
    lines += _registry(results)
    lines += _lookups(results)
    lines += _gateway(results)
    if results.get("credentials"):
        lines += _licence_verification(results["credentials"])
    if results.get("cases"):
        lines += _applications(results["cases"])
    if results.get("audit"):
        lines += _audit(results["audit"])
    return "\n".join(lines)
