"""Loading a process: what is refused, and how the refusal names the element."""

from __future__ import annotations

import pytest

from tongban.kernel.workflow import (
    ProcessDefinitionError,
    load_decision,
    load_process,
    load_standard,
    standard_document,
)

from .documents import eligibility_rules, gateway_process, process, script_process


def test_the_standard_processes_load_with_their_lanes_tasks_and_ends():
    review = load_standard("review")

    assert review.process_id == "standard_review"
    assert review.lanes == ("applicant", "reviewer", "window_officer")
    assert set(review.user_tasks) == {"accept", "review", "supplement", "decide"}
    assert review.user_tasks["supplement"].lane == "applicant"
    assert review.user_tasks["review"].required == ("supplement_requested",)
    assert set(review.end_events) == {"not_accepted", "withdrawn", "approved", "rejected"}
    countersign = load_standard("countersign")
    assert countersign.user_tasks["countersign_tax"].department_kind == "tax"
    assert countersign.user_tasks["countersign_tax"].output == "countersign_tax"
    assert set(load_standard("instant").decisions) == {"eligibility"}


def test_the_fingerprint_is_the_sha256_of_the_documents_and_changes_with_them():
    xml = standard_document("review.bpmn")

    first = load_process(xml)
    again = load_process(xml)
    changed = load_process(xml.replace("Prepare", "Get ready"))

    assert first.fingerprint == again.fingerprint
    assert len(first.fingerprint) == 64
    assert changed.fingerprint != first.fingerprint


def test_a_gateway_condition_importing_a_module_is_refused_at_load_time():
    with pytest.raises(ProcessDefinitionError, match="f_yes") as refused:
        load_process(gateway_process("__import__('os').system('true')"))

    assert refused.value.element_id == "f_yes"
    assert refused.value.status == 422
    assert refused.value.as_dict()["element_id"] == "f_yes"


@pytest.mark.parametrize(
    "condition",
    ["open('/etc/passwd')", "().__class__.__bases__", "${approved}", "x ==", "eval('1')"],
)
def test_a_condition_the_sandbox_refuses_names_its_flow(condition):
    with pytest.raises(ProcessDefinitionError, match="sequenceFlow 'f_yes'"):
        load_process(gateway_process(condition.replace("<", "&lt;")))


def test_a_script_that_imports_is_refused_at_load_time():
    with pytest.raises(ProcessDefinitionError, match="scriptTask 'work'"):
        load_process(script_process("import os"))


def test_a_user_task_outside_a_lane_is_refused():
    xml = process(
        '<bpmn:startEvent id="start" /><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="look" />'
        '<bpmn:userTask id="look" name="Look" />'
        '<bpmn:sequenceFlow id="f2" sourceRef="look" targetRef="done" /><bpmn:endEvent id="done" />'
    )

    with pytest.raises(ProcessDefinitionError, match=r"userTask 'look' .*lane"):
        load_process(xml)


def test_a_lane_not_named_as_a_role_is_refused():
    xml = process(
        '<bpmn:startEvent id="start" /><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="look" />'
        '<bpmn:userTask id="look" name="Look" />'
        '<bpmn:sequenceFlow id="f2" sourceRef="look" targetRef="done" /><bpmn:endEvent id="done" />',
        lanes={"Window Officer": ["look"]},
    )

    with pytest.raises(ProcessDefinitionError, match="snake_case"):
        load_process(xml)


def test_an_unknown_department_kind_is_refused():
    xml = process(
        '<bpmn:startEvent id="start" /><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sign" />'
        '<bpmn:userTask id="sign" name="Sign"><bpmn:extensionElements><camunda:properties>'
        '<camunda:property name="department_kind" value="space_agency" />'
        "</camunda:properties></bpmn:extensionElements></bpmn:userTask>"
        '<bpmn:sequenceFlow id="f2" sourceRef="sign" targetRef="done" /><bpmn:endEvent id="done" />',
        lanes={"reviewer": ["sign"]},
    )

    with pytest.raises(ProcessDefinitionError, match="space_agency"):
        load_process(xml)


def test_an_end_event_id_that_is_not_an_outcome_is_refused():
    xml = process(
        '<bpmn:startEvent id="start" /><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="Event_0x1" />'
        '<bpmn:endEvent id="Event_0x1" />'
    )

    with pytest.raises(ProcessDefinitionError, match="Event_0x1"):
        load_process(xml)


def test_unsupported_elements_are_refused_by_name():
    xml = process(
        '<bpmn:startEvent id="start" /><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call" />'
        '<bpmn:serviceTask id="call" name="Call out" />'
        '<bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="done" /><bpmn:endEvent id="done" />'
    )

    with pytest.raises(ProcessDefinitionError, match="serviceTask 'call'"):
        load_process(xml)


def test_a_timer_is_refused():
    xml = process(
        '<bpmn:startEvent id="start"><bpmn:timerEventDefinition id="t" /></bpmn:startEvent>'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="done" /><bpmn:endEvent id="done" />'
    )

    with pytest.raises(ProcessDefinitionError, match="timerEventDefinition"):
        load_process(xml)


def test_two_executable_processes_are_refused():
    one = process('<bpmn:startEvent id="s1" />', process_id="one")
    two = one.replace(
        "</bpmn:definitions>",
        '<bpmn:process id="two" isExecutable="true"><bpmn:startEvent id="s2" /></bpmn:process></bpmn:definitions>',
    )

    with pytest.raises(ProcessDefinitionError, match="exactly one executable process"):
        load_process(two)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("", "empty"),
        ("<bpmn:definitions", "not well-formed"),
        ("<definitions/>", "not BPMN"),
        (
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&e;</bpmn:definitions>',
            "DTD",
        ),
        (process('<bpmn:startEvent id="start" bogus="1" />'), "not valid BPMN"),
        (process('<bpmn:sequenceFlow id="f1" sourceRef="nowhere" targetRef="nothing" />'), "cannot be used"),
    ],
)
def test_a_broken_bpmn_document_is_refused_with_a_readable_message(document, message):
    with pytest.raises(ProcessDefinitionError, match=message):
        load_process(document)


def test_a_business_rule_task_naming_a_missing_decision_is_refused():
    xml = standard_document("instant.bpmn")

    with pytest.raises(ProcessDefinitionError, match="'eligibility' is not among the rules"):
        load_process(xml)


def test_a_broken_dmn_document_is_refused():
    broken = eligibility_rules().replace("<text>&gt;= 18</text>", "<text>&gt;= __import__('os')</text>", 1)

    with pytest.raises(ProcessDefinitionError, match="rule 2 \\(R2\\)"):
        load_process(standard_document("instant.bpmn"), rules=[broken])
    with pytest.raises(ProcessDefinitionError, match="not DMN"):
        load_decision(standard_document("review.bpmn"))
    with pytest.raises(ProcessDefinitionError, match="not valid DMN"):
        load_decision(eligibility_rules().replace('hitPolicy="UNIQUE"', 'hitPolicy="WHATEVER"'))
    with pytest.raises(ProcessDefinitionError, match="Two rules documents"):
        load_process(standard_document("instant.bpmn"), rules=[eligibility_rules()] * 2)
