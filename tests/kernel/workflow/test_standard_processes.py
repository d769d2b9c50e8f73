"""Every path of the standard processes, saved and restored at every wait state."""

from __future__ import annotations

import json

import pytest

from tongban.kernel.workflow import (
    ProcessInstance,
    TaskDataRefused,
    TaskNotReady,
    load_standard,
    restore,
    start,
)

APPLICANT = {"applicant": {"name": "王五", "birth_date": "1990-03-07"}}


def saved_and_restored(instance: ProcessInstance) -> ProcessInstance:
    """Save the instance as JSON text, as a JSONField would, and restore it."""
    before = [(task.element_id, task.task_id) for task in instance.ready_tasks()]
    state = json.loads(json.dumps(instance.serialize()))
    restored = restore(instance.definition, state)
    assert [(task.element_id, task.task_id) for task in restored.ready_tasks()] == before
    assert restored.data == instance.data
    return restored


def only_task(instance: ProcessInstance, element_id: str, lane: str):
    [task] = instance.ready_tasks()
    assert (task.element_id, task.lane) == (element_id, lane)
    return task


def answer(instance: ProcessInstance, element_id: str, lane: str, data: dict) -> ProcessInstance:
    """Complete the one waiting task, then save and restore (every wait state is a restart point)."""
    instance.complete(only_task(instance, element_id, lane).task_id, data)
    return saved_and_restored(instance)


def started(name: str, data: dict | None = None) -> ProcessInstance:
    instance = start(load_standard(name), data if data is not None else APPLICANT)
    instance.run()
    return saved_and_restored(instance)


# review ------------------------------------------------------------------------------


def test_review_approves_after_acceptance_review_and_decision():
    # given
    instance = started("review")

    # when
    instance = answer(instance, "accept", "window_officer", {"accepted": True})
    instance = answer(instance, "review", "reviewer", {"supplement_requested": False})
    instance = answer(instance, "decide", "reviewer", {"decision": "approve"})

    # then
    assert instance.is_completed
    assert instance.end_event == "approved"
    assert instance.ready_tasks() == []
    assert instance.data["applicant"]["name"] == "王五"
    assert instance.data["decision"] == "approve"


def test_review_rejects_on_a_reject_decision():
    instance = started("review")

    instance = answer(instance, "accept", "window_officer", {"accepted": True})
    instance = answer(instance, "review", "reviewer", {"supplement_requested": False})
    instance = answer(instance, "decide", "reviewer", {"decision": "reject", "reason": "not in scope"})

    assert instance.end_event == "rejected"
    assert instance.data["reason"] == "not in scope"


def test_review_ends_not_accepted_when_the_window_officer_does_not_accept():
    instance = started("review")

    instance = answer(instance, "accept", "window_officer", {"accepted": False})

    assert instance.is_completed
    assert instance.end_event == "not_accepted"


def test_review_sends_one_supplement_to_the_applicant_and_back_to_review():
    # given an accepted application
    instance = started("review")
    instance = answer(instance, "accept", "window_officer", {"accepted": True})

    # when the reviewer asks for a supplement and the applicant resubmits
    instance = answer(
        instance,
        "review",
        "reviewer",
        {"supplement_requested": True, "supplement_items": ["photo"], "supplement_reason": "blurred"},
    )
    instance = answer(instance, "supplement", "applicant", {"withdrawn": False})

    # then the application is back with the reviewer, and the count is kept
    assert only_task(instance, "review", "reviewer")
    assert instance.data["supplement_count"] == 1
    assert instance.data["supplement_items"] == ["photo"]
    instance = answer(instance, "review", "reviewer", {"supplement_requested": False})
    instance = answer(instance, "decide", "reviewer", {"decision": "approve"})
    assert instance.end_event == "approved"


def test_review_refuses_a_second_supplement_request_and_changes_nothing():
    # given an application that was supplemented once
    instance = started("review")
    instance = answer(instance, "accept", "window_officer", {"accepted": True})
    instance = answer(instance, "review", "reviewer", {"supplement_requested": True})
    instance = answer(instance, "supplement", "applicant", {"withdrawn": False})
    task = only_task(instance, "review", "reviewer")
    state_before = instance.serialize()

    # when the reviewer asks again, then the process refuses
    with pytest.raises(TaskDataRefused, match="only once") as refused:
        instance.complete(task.task_id, {"supplement_requested": True})

    # and nothing changed: the same task still waits, the state is the same
    assert refused.value.element_id == "review"
    assert instance.serialize() == state_before
    instance = answer(instance, "review", "reviewer", {"supplement_requested": False})
    assert only_task(instance, "decide", "reviewer")


def test_review_ends_withdrawn_when_the_applicant_withdraws_instead_of_supplementing():
    instance = started("review")
    instance = answer(instance, "accept", "window_officer", {"accepted": True})
    instance = answer(instance, "review", "reviewer", {"supplement_requested": True})

    instance = answer(instance, "supplement", "applicant", {"withdrawn": True})

    assert instance.end_event == "withdrawn"


def test_review_refuses_an_answer_without_its_required_key_or_with_a_bad_decision():
    instance = started("review")
    accept = only_task(instance, "accept", "window_officer")

    with pytest.raises(TaskDataRefused, match="accepted"):
        instance.complete(accept.task_id, {"reason": "looks fine"})

    instance = answer(instance, "accept", "window_officer", {"accepted": True})
    instance = answer(instance, "review", "reviewer", {"supplement_requested": False})
    decide = only_task(instance, "decide", "reviewer")
    with pytest.raises(TaskDataRefused, match="approve or reject"):
        instance.complete(decide.task_id, {"decision": "maybe"})


def test_a_task_of_another_instance_or_one_already_done_is_not_ready_here():
    # given two applications
    mine = started("review")
    theirs = started("review")
    their_task = only_task(theirs, "accept", "window_officer")
    my_task = only_task(mine, "accept", "window_officer")

    # then a task id of the other instance is refused, as is a garbled one
    with pytest.raises(TaskNotReady):
        mine.complete(their_task.task_id, {"accepted": True})
    with pytest.raises(TaskNotReady):
        mine.complete("not-a-task", {"accepted": True})

    # and a task cannot be completed twice
    mine.complete(my_task.task_id, {"accepted": True})
    with pytest.raises(TaskNotReady):
        mine.complete(my_task.task_id, {"accepted": True})


# countersign -------------------------------------------------------------------------


def countersigning() -> ProcessInstance:
    instance = started("countersign")
    instance = answer(instance, "accept", "window_officer", {"accepted": True})
    instance = answer(instance, "review", "reviewer", {})
    return instance


def test_countersign_waits_for_both_departments_in_parallel():
    # given a reviewed application
    instance = countersigning()

    # then two reviewers of other departments countersign at the same time
    tasks = {task.element_id: task for task in instance.ready_tasks()}
    assert {(t.element_id, t.lane, t.department_kind) for t in tasks.values()} == {
        ("countersign_natural_resources", "reviewer", "natural_resources"),
        ("countersign_tax", "reviewer", "tax"),
    }

    # when the first agrees, the second still waits (also after a restart)
    instance.complete(tasks["countersign_tax"].task_id, {"agreed": True, "opinion": "no arrears"})
    instance = saved_and_restored(instance)
    [waiting] = instance.ready_tasks()
    assert waiting.element_id == "countersign_natural_resources"
    assert instance.data["countersign_tax"] == {"agreed": True, "opinion": "no arrears"}

    # when the second agrees, the reviewer decides
    instance.complete(waiting.task_id, {"agreed": True})
    instance = saved_and_restored(instance)
    instance = answer(instance, "decide", "reviewer", {"decision": "approve"})
    assert instance.end_event == "approved"
    assert instance.data["countersign_natural_resources"] == {"agreed": True}
    assert instance.data["countersign_tax"]["opinion"] == "no arrears"


def test_countersign_rejects_when_one_department_refuses():
    instance = countersigning()
    tasks = {task.element_id: task for task in instance.ready_tasks()}

    instance.complete(tasks["countersign_natural_resources"].task_id, {"agreed": False, "opinion": "protected land"})
    instance.complete(tasks["countersign_tax"].task_id, {"agreed": True})

    assert instance.is_completed
    assert instance.end_event == "rejected"
    assert instance.data["countersign_natural_resources"]["opinion"] == "protected land"


def test_countersign_ends_not_accepted_without_countersigning():
    instance = started("countersign")

    instance = answer(instance, "accept", "window_officer", {"accepted": False})

    assert instance.end_event == "not_accepted"


# instant -----------------------------------------------------------------------------


def test_instant_approves_by_rule_with_no_one_involved_and_records_the_rule():
    # given an adult without the licence yet
    instance = started(
        "instant", {"applicant": {"birth_date": "1990-03-07"}, "holds_result_licence": False}
    )

    # then the rules approved at once
    assert instance.is_completed
    assert instance.end_event == "approved"
    [outcome] = instance.decisions
    assert outcome.decision_id == "eligibility"
    assert outcome.element_id == "check_eligibility"
    assert outcome.rule is not None
    assert (outcome.rule.rule_id, outcome.rule.index) == ("R2", 2)
    assert outcome.rule.description == "applicant is 18+ and does not hold the licence this service issues yet"
    assert outcome.explain() == (
        "eligibility: rule 2 (R2): applicant is 18+ and does not hold the licence this service issues yet"
    )
    assert instance.data["eligible"] is True


def test_instant_routes_to_review_when_the_rules_do_not_approve_and_says_why():
    # given an adult who already holds the licence this service issues
    instance = started(
        "instant", {"applicant": {"birth_date": "1990-03-07"}, "holds_result_licence": True}
    )

    # then people review it, and the deciding rule is kept through save and restore
    assert not instance.is_completed
    assert instance.decisions[0].rule.rule_id == "R3"
    instance = answer(instance, "accept", "window_officer", {"accepted": True})
    instance = answer(instance, "decide", "reviewer", {"decision": "reject"})
    assert instance.end_event == "rejected"
    assert instance.decisions[0].explain().endswith("applicant already holds the licence this service issues")
