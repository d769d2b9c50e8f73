"""Small BPMN and DMN documents for the engine's tests (no diagram section needed)."""

from __future__ import annotations

from tongban.kernel.workflow import standard_document

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'id="test_definitions" targetNamespace="https://tongban.example/test">\n'
)


def process(body: str, *, lanes: dict[str, list[str]] | None = None, process_id: str = "test") -> str:
    """Return a BPMN document with one executable process around ``body``.

    ``lanes`` maps a lane name to the ids of the nodes in it.
    """
    lane_set = ""
    if lanes:
        lane_set = '<bpmn:laneSet id="lanes">' + "".join(
            f'<bpmn:lane id="lane_{index}" name="{name}">'
            + "".join(f"<bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>" for ref in refs)
            + "</bpmn:lane>"
            for index, (name, refs) in enumerate(lanes.items())
        ) + "</bpmn:laneSet>"
    return (
        HEADER
        + f'<bpmn:process id="{process_id}" isExecutable="true">{lane_set}{body}</bpmn:process>\n'
        + "</bpmn:definitions>\n"
    )


def script_process(script: str) -> str:
    """Return a process that runs ``script`` and then waits for a reviewer."""
    return process(
        '<bpmn:startEvent id="start" />'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />'
        f'<bpmn:scriptTask id="work" name="Work" scriptFormat="python"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>'
        '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="look" />'
        '<bpmn:userTask id="look" name="Look" />'
        '<bpmn:sequenceFlow id="f3" sourceRef="look" targetRef="done" />'
        '<bpmn:endEvent id="done" />',
        lanes={"reviewer": ["look"]},
    )


def gateway_process(condition: str) -> str:
    """Return a process whose gateway sends ``condition`` to ``yes`` and anything else to ``no``."""
    return process(
        '<bpmn:startEvent id="start" />'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gate" />'
        '<bpmn:exclusiveGateway id="gate" default="f_no" />'
        f'<bpmn:sequenceFlow id="f_yes" sourceRef="gate" targetRef="yes"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>'
        '<bpmn:sequenceFlow id="f_no" sourceRef="gate" targetRef="no" />'
        '<bpmn:endEvent id="yes" /><bpmn:endEvent id="no" />'
    )


def eligibility_rules() -> str:
    return standard_document("eligibility.dmn")
