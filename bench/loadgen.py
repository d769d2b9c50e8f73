"""A small HTTP/1.1 load generator, run in its own process: ``python -m bench.loadgen``.

It keeps ``--concurrency`` keep-alive connections busy, each sending the next
request as soon as the previous answer is read, until ``--seconds`` have passed
or ``--requests`` were sent; requests in flight then finish, so that every
request sent is answered (the gateway's call log must hold exactly that many
calls). The path template takes ``{key}`` (cycled from ``--keys``, one per line)
and ``{n}`` (the request's number). The Authorization header, if any, comes
from the environment variable BENCH_AUTHORIZATION, never the command line.
With ``--body FILE`` every request is a POST of that file's bytes (as JSON,
or as ``--content-type``); ``--header "Name: value"`` adds a header whose value
may use ``{n}`` (an Idempotency-Key per request, say). With ``--expect TEXT``
every answer but a ``--expect-status`` (200) whose body holds TEXT is counted
as ``unexpected``. Prints one JSON object: requests, statuses, errors,
unexpected, seconds, throughput and latency percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import time
from pathlib import Path

from bench.common import latency_summary


class Load:
    def __init__(self, args: argparse.Namespace, keys: list[str]) -> None:
        self.args = args
        self.keys = keys
        self.numbers = itertools.count()
        self.latencies: list[float] = []
        self.statuses: dict[str, int] = {}
        self.errors = 0
        self.unexpected = 0
        self.expect = args.expect.encode() if args.expect else b""
        self.body = args.body.read_bytes() if args.body else b""
        self.deadline = 0.0
        authorization = os.environ.get("BENCH_AUTHORIZATION", "")
        self.headers = f"Host: {args.host}:{args.port}\r\n" + (
            f"Authorization: {authorization}\r\n" if authorization else ""
        )
        self.extra_headers = "".join(f"{header}\r\n" for header in args.header or [])

    def next_request(self) -> bytes | None:
        if time.perf_counter() >= self.deadline:
            return None
        n = next(self.numbers)
        if self.args.requests and n >= self.args.requests:
            return None
        key = self.keys[n % len(self.keys)]
        path = self.args.path.format(key=key, n=n)
        headers = self.headers + self.extra_headers.format(key=key, n=n)
        if self.body:
            return (f"POST {path} HTTP/1.1\r\n{headers}Content-Type: {self.args.content_type}\r\n"
                    f"Content-Length: {len(self.body)}\r\n\r\n").encode() + self.body
        return f"GET {path} HTTP/1.1\r\n{headers}\r\n".encode()

    async def connection(self) -> None:
        reader, writer = await asyncio.open_connection(self.args.host, self.args.port)
        try:
            while (request := self.next_request()) is not None:
                started = time.perf_counter()
                try:
                    writer.write(request)
                    status, close, body = await _read_response(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    # Counted, never retried: the server may have handled it.
                    self.errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(self.args.host, self.args.port)
                    continue
                self.latencies.append(time.perf_counter() - started)
                self.statuses[status] = self.statuses.get(status, 0) + 1
                if self.expect and (status != self.args.expect_status or self.expect not in body):
                    self.unexpected += 1
                if close:
                    writer.close()
                    reader, writer = await asyncio.open_connection(self.args.host, self.args.port)
        finally:
            writer.close()

    async def run(self) -> dict[str, object]:
        started = time.perf_counter()
        self.deadline = started + self.args.seconds
        await asyncio.gather(*(self.connection() for _ in range(self.args.concurrency)))
        elapsed = time.perf_counter() - started
        answered = len(self.latencies)
        return {
            "concurrency": self.args.concurrency,
            "requests": answered + self.errors,
            "answered": answered,
            "errors": self.errors,
            "unexpected": self.unexpected,
            "statuses": self.statuses,
            "seconds": elapsed,
            "throughput": answered / elapsed if elapsed else 0.0,
            **latency_summary(self.latencies),
        }


async def _read_response(reader: asyncio.StreamReader) -> tuple[str, bool, bytes]:
    """Read one response; return its status code, whether the server closes the connection, and its body."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split(" ", 2)[1]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        chunks = []
        while size := int((await reader.readline()).strip() or b"0", 16):
            chunks.append((await reader.readexactly(size + 2))[:-2])
        await reader.readline()
        body = b"".join(chunks)
    else:
        raise ValueError("response without a length")
    return status, headers.get("connection") == "close", body


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True, help="path template with {key} and {n}")
    parser.add_argument("--keys", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--requests", type=int, default=0, help="stop after this many (0: no limit)")
    parser.add_argument("--body", type=Path, help="POST this file's bytes as JSON (default: GET)")
    parser.add_argument("--content-type", default="application/json", help="of the --body")
    parser.add_argument("--header", action="append", help='"Name: value" with {n} and {key}; repeatable')
    parser.add_argument("--expect", default="", help="count answers but --expect-status holding this text as unexpected")
    parser.add_argument("--expect-status", default="200")
    args = parser.parse_args(argv)
    keys = [line.strip() for line in args.keys.read_text().splitlines() if line.strip()]
    result = asyncio.run(Load(args, keys).run())
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
