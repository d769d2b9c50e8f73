"""Running instances: failures at run time, saved states, and states stored in the database."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from tongban.kernel.workflow import (
    ProcessRunError,
    ProcessStateError,
    SandboxError,
    TaskDataRefused,
    load_process,
    load_standard,
    restore,
    standard_document,
    start,
)

from .documents import gateway_process, script_process


def test_a_script_task_that_loops_forever_fails_at_run_time_with_a_sandbox_error():
    # given a process whose script never ends (it passes the load-time check)
    instance = start(load_process(script_process("while True:\n    pass")), {})

    # when it runs, then it is stopped, naming the task
    with pytest.raises(SandboxError, match=r"steps .*in work"):
        instance.run()

    # and the instance may not be used any further
    with pytest.raises(ProcessRunError, match="restore"):
        instance.ready_tasks()


def test_a_gateway_condition_that_builds_a_huge_value_fails_with_a_sandbox_error():
    instance = start(load_process(gateway_process("len('x' * 10**10) &gt; 1")), {})

    with pytest.raises(SandboxError, match="size"):
        instance.run()


def test_a_condition_over_missing_data_fails_with_a_run_error_naming_the_gateway():
    instance = start(load_process(gateway_process("approved")), {})

    with pytest.raises(ProcessRunError, match=r"gate.*NameError") as failed:
        instance.run()
    assert failed.value.element_id == "gate"


def test_a_script_sees_and_changes_the_process_data():
    instance = start(load_process(script_process("fee = 10 * len(items)\ndel items")), {"items": [1, 2, 3]})

    instance.run()

    assert instance.data == {"fee": 30}


def test_start_data_that_are_not_json_are_refused():
    with pytest.raises(TaskDataRefused):
        start(load_standard("review"), {"kinds": {"a", "b"}})


def test_a_state_is_json_and_records_the_definitions_fingerprint():
    instance = start(load_standard("review"), {"applicant": {"name": "赵六"}})
    instance.run()

    state = instance.serialize()

    assert json.loads(json.dumps(state)) == state
    assert state["format"] == "tongban.workflow/1"
    assert state["fingerprint"] == load_standard("review").fingerprint
    assert state["process_id"] == "standard_review"


def test_a_state_is_not_restored_into_another_version_of_the_process():
    # given a state saved with the standard review process
    instance = start(load_standard("review"), {})
    instance.run()
    state = instance.serialize()

    # when the process changed since, then the state is refused
    changed = load_process(standard_document("review.bpmn").replace("Prepare", "Get ready"))
    with pytest.raises(ProcessStateError, match="another version"):
        restore(changed, state)
    with pytest.raises(ProcessStateError, match="another version"):
        restore(load_standard("countersign"), state)


@pytest.mark.parametrize(
    "state",
    [None, {}, {"format": "spiff"}, "text"],
)
def test_something_that_is_not_a_state_is_refused(state):
    with pytest.raises(ProcessStateError):
        restore(load_standard("review"), state)


def test_a_damaged_state_is_refused():
    instance = start(load_standard("review"), {})
    instance.run()
    state = instance.serialize()
    workflow = json.loads(state["workflow"])
    del workflow["tasks"]

    with pytest.raises(ProcessStateError, match="damaged"):
        restore(load_standard("review"), {**state, "workflow": json.dumps(workflow)})
    with pytest.raises(ProcessStateError, match="damaged"):
        restore(load_standard("review"), {**state, "workflow": "{not json"})


def test_restoring_does_not_change_the_given_state():
    instance = start(load_standard("review"), {})
    instance.run()
    state = instance.serialize()
    copy = json.loads(json.dumps(state))

    restored = restore(load_standard("review"), state)
    restored.complete(restored.ready_tasks()[0].task_id, {"accepted": True})

    assert state == copy


@pytest.mark.django_db
def test_a_state_kept_by_the_database_as_json_continues_where_it_was():
    # given a state at the countersign wait, with one department done
    instance = start(load_standard("countersign"), {"applicant": {"name": "孙七"}})
    instance.run()
    instance.complete(instance.ready_tasks()[0].task_id, {"accepted": True})
    instance.complete(instance.ready_tasks()[0].task_id, {})
    tax = next(t for t in instance.ready_tasks() if t.department_kind == "tax")
    instance.complete(tax.task_id, {"agreed": True})

    # when the database stores it as JSON (jsonb on PostgreSQL reorders keys) and gives it back
    with connection.cursor() as cursor:
        cast = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "json(%s)"
        cursor.execute(f"SELECT {cast}", [json.dumps(instance.serialize())])
        stored = cursor.fetchone()[0]
    state = json.loads(stored) if isinstance(stored, str) else stored

    # then the restored instance continues
    restored = restore(load_standard("countersign"), state)
    [waiting] = restored.ready_tasks()
    assert waiting.department_kind == "natural_resources"
    restored.complete(waiting.task_id, {"agreed": True})
    restored.complete(restored.ready_tasks()[0].task_id, {"decision": "approve"})
    assert restored.end_event == "approved"
