"""The process engine's cost per step (ADR 0017): ``python -m bench.workflow``.

In one process, on the standard processes of ``tongban.kernel.workflow``
(nothing touches a database), the median over ``--rounds`` of:

- loading a process (parse, XSD validation, sandbox checks of every expression);
- start + run to the first user task; completing one task (and the automatic
  steps after it); the instant process approved by its DMN rule;
- serialize, JSON text and back, restore; the size of a saved state;
- one expression in the sandbox against plain ``eval`` of the same compiled
  code and SpiffWorkflow's own (unsandboxed) evaluation, and the subprocess
  alternatives: a round trip to a persistent worker process over a pipe, and a
  forked process per evaluation.

Prints microseconds per step; ``--out FILE`` also writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.common import machine, setup_django, write_json

APPLICANT = {"applicant": {"name": "王五", "birth_date": "1990-03-07", "tags": ["resident"]}}
CONDITION = "age(applicant['birth_date']) >= 18 and 'resident' in applicant['tags']"


def median_us(work: Callable[[], object], rounds: int) -> float:
    """Return the median wall time of ``work`` in microseconds (after a few warm-up calls)."""
    for _ in range(min(rounds, 20)):
        work()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def _worker(connection: Connection) -> None:
    from tongban.kernel.workflow import sandbox

    while True:
        request = connection.recv()
        if request is None:
            return
        source, data = request
        connection.send(sandbox.evaluate(source, data))


def _forked(connection: Connection, source: str, data: dict[str, Any]) -> None:
    from tongban.kernel.workflow import sandbox

    connection.send(sandbox.evaluate(source, data))
    connection.close()


def measure(rounds: int) -> dict[str, float]:
    from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

    from tongban.kernel.workflow import (
        load_process,
        load_standard,
        restore,
        sandbox,
        standard_document,
        start,
    )

    results: dict[str, float] = {}
    review_xml = standard_document("review.bpmn")
    results["load review.bpmn"] = median_us(lambda: load_process(review_xml), max(rounds // 20, 10))
    review = load_standard("review")
    instant = load_standard("instant")

    def start_and_run() -> Any:
        instance = start(review, APPLICANT)
        instance.run()
        return instance

    results["start + run to the first user task"] = median_us(start_and_run, rounds)

    waiting = start_and_run()
    state_at_accept = waiting.serialize()

    def complete_accept() -> None:
        instance = restore(review, state_at_accept)
        [task] = instance.ready_tasks()
        instance.complete(task.task_id, {"accepted": True})

    restore_only = median_us(lambda: restore(review, state_at_accept), rounds)
    results["restore (from a dict)"] = restore_only
    results["complete one task (accept) and run on"] = median_us(complete_accept, rounds) - restore_only
    results["serialize"] = median_us(waiting.serialize, rounds)

    def round_trip() -> None:
        restore(review, json.loads(json.dumps(waiting.serialize())))

    results["serialize + JSON text + restore"] = median_us(round_trip, rounds)
    later = restore(review, state_at_accept)
    later.complete(later.ready_tasks()[0].task_id, {"accepted": True})
    later.complete(later.ready_tasks()[0].task_id, {"supplement_requested": True})
    later.complete(later.ready_tasks()[0].task_id, {"withdrawn": False})
    results["saved state at accept, bytes"] = len(json.dumps(state_at_accept))
    results["saved state after a supplement, bytes"] = len(json.dumps(later.serialize()))

    def instant_approval() -> None:
        instance = start(instant, {**APPLICANT, "holds_result_licence": False})
        instance.run()
        assert instance.end_event == "approved"

    results["instant approval by DMN rule (start + run to the end)"] = median_us(instant_approval, rounds)

    # One expression: sandboxed, plain eval, SpiffWorkflow's own environment, subprocesses.
    data = dict(APPLICANT)
    results["expression in the sandbox"] = median_us(lambda: sandbox.evaluate(CONDITION, data), rounds * 5)
    compiled = compile(CONDITION, "<bench>", "eval")
    helpers = {"age": sandbox.age}
    results["same expression, plain eval of compiled code"] = median_us(
        lambda: eval(compiled, {**helpers, **data}),
        rounds * 5,
    )
    spiff = TaskDataEnvironment(helpers)
    results["same expression, SpiffWorkflow's unsandboxed eval"] = median_us(
        lambda: spiff.evaluate(CONDITION, dict(data)), rounds * 5
    )
    loop = "total = 0\nfor i in range(1000):\n    total += i"
    results["script: 1000-iteration loop in the sandbox"] = median_us(
        lambda: sandbox.execute(loop, {}), rounds
    )
    plain_loop = compile(loop, "<bench>", "exec")
    results["script: same loop, plain exec"] = median_us(lambda: exec(plain_loop, {}), rounds)

    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()
    worker = context.Process(target=_worker, args=(child,), daemon=True)
    worker.start()

    def ask_worker() -> Any:
        parent.send((CONDITION, data))
        return parent.recv()

    results["expression in a persistent worker process (pipe round trip)"] = median_us(ask_worker, rounds)
    parent.send(None)
    worker.join()

    def fork_per_evaluation() -> Any:
        receiving, sending = context.Pipe(duplex=False)
        process = context.Process(target=_forked, args=(sending, CONDITION, data))
        process.start()
        value = receiving.recv()
        process.join()
        return value

    results["expression in a forked process each time"] = median_us(fork_per_evaluation, max(rounds // 20, 20))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2000, help="timed repetitions per step")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tongban-bench-workflow-") as var_dir:
        setup_django(Path(var_dir), f"sqlite:///{var_dir}/unused.sqlite3")
        results = measure(args.rounds)
    print(f"Process engine, median of {args.rounds} rounds on {machine()}")
    for name, value in results.items():
        unit = "" if name.endswith("bytes") else " µs"
        print(f"  {name:<62} {value:>10.1f}{unit}")
    if args.out:
        write_json(args.out, {"machine": machine(), "rounds": args.rounds, "results": results})


if __name__ == "__main__":
    main()
