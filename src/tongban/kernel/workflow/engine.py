"""Load BPMN processes, run their instances, save and restore their state.

SpiffWorkflow does the BPMN semantics (tokens, gateways, parallel joins);
this module checks what it is given, runs every expression in the sandbox,
and keeps SpiffWorkflow's untyped objects behind typed wrappers. See the
package docstring for the conventions a process follows.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar
from uuid import UUID

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import BusinessRuleTaskParser
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from tongban.kernel.workflow import sandbox
from tongban.kernel.workflow._xml import (
    BPMN_NS,
    CAMUNDA_NS,
    NSMAP,
    describe,
    extension_properties,
    fingerprint,
    local_name,
    parse_document,
    said,
    schema_validator,
)
from tongban.kernel.workflow.errors import (
    ProcessDefinitionError,
    ProcessRunError,
    ProcessStateError,
    TaskDataRefused,
    TaskNotReady,
)
from tongban.kernel.workflow.rules import Decision, DecisionOutcome, load_decisions

#: The ``format`` of a saved state; a state of another format is refused.
STATE_FORMAT = "tongban.workflow/1"
#: Where the outcomes of business rule tasks are kept in the workflow's own data.
DECISIONS_KEY = "tongban_decisions"

#: Lane names, end event ids and data keys: snake_case identifiers.
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

#: The extension properties a user task may carry (``camunda:property`` names).
USER_TASK_PROPERTIES = ("department_kind", "required", "output", "validate", "validate_message")

# What a process may contain. Everything else (service tasks, timers, messages,
# subprocesses, call activities …) is refused when the process is loaded.
_FLOW_ELEMENTS = frozenset(
    {
        "startEvent", "endEvent", "userTask", "scriptTask", "businessRuleTask", "task",
        "exclusiveGateway", "parallelGateway", "inclusiveGateway", "intermediateThrowEvent",
        "sequenceFlow",
    }
)  # fmt: skip
_ARTEFACTS = frozenset(
    {"laneSet", "textAnnotation", "association", "documentation", "extensionElements", "group"}
)


# --- the sandboxed script engine --------------------------------------------------------


class _SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow's script environment, with every evaluation in the sandbox."""

    def evaluate(
        self, expression: str, context: Mapping[str, Any], external_context: Mapping[str, Any] | None = None
    ) -> Any:
        data = {**context, **external_context} if external_context else context
        return sandbox.evaluate(expression, data)

    def execute(
        self, script: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None
    ) -> bool:
        sandbox.execute(script, context)
        return True

    def call_service(self, context: Mapping[str, Any], **kwargs: Any) -> Any:
        raise sandbox.SandboxError("service tasks are not available")


class _SandboxScriptEngine(PythonScriptEngine):
    def __init__(self) -> None:
        super().__init__(environment=_SandboxEnvironment())

    def validate(self, expression: str) -> None:
        sandbox.check(expression)


_SCRIPT_ENGINE = _SandboxScriptEngine()


# --- business rule tasks that record which rule decided ---------------------------------


class _RuleTask(BusinessRuleTask):
    """A business rule task that evaluates its decision here and records the outcome."""

    def __init__(self, wf_spec: Any, bpmn_id: str, decision: Decision, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, dmnEngine=None, **kwargs)
        self.decision = decision

    def _run_hook(self, my_task: Any) -> Any:
        outcome = self.decision.decide(my_task.data, element_id=self.bpmn_id)
        my_task.data.update(copy.deepcopy(dict(outcome.outputs)))
        recorded = my_task.workflow.top_workflow.data.setdefault(DECISIONS_KEY, [])
        recorded.append(outcome.as_dict())
        # Skip the DMN mixin (it would evaluate again); keep the base task's bookkeeping.
        return super(BusinessRuleTaskMixin, self)._run_hook(my_task)


class _RuleTaskParser(BusinessRuleTaskParser):
    def create_task(self) -> Any:
        reference = self.get_decision_ref(self.node)
        decision = self.process_parser.parser.decisions[reference]
        return _RuleTask(self.spec, self.bpmn_id, decision=decision, **self.bpmn_attributes)


class _Parser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("businessRuleTask"): (_RuleTaskParser, _RuleTask),
    }

    def __init__(self, decisions: Mapping[str, Decision]) -> None:
        super().__init__()  # no XSD validation here: load_process has done it
        self.decisions = decisions


# --- saving state -----------------------------------------------------------------------


class _StateConverter(BpmnWorkflowConverter):
    """SpiffWorkflow's workflow converter without the specs: the definition supplies them."""

    def to_dict(self, workflow: Any) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], spec: Any = None, subprocess_specs: Any = None) -> Any:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _serializer() -> Any:
    config = dict(CAMUNDA_CONFIG)
    config[BpmnWorkflow] = _StateConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


_SERIALIZER = _serializer()


# --- definitions ------------------------------------------------------------------------


@dataclass(frozen=True)
class UserTaskDefinition:
    """A task for a person, as the process defines it."""

    element_id: str
    name: str
    #: The lane: the role that does the task (``window_officer``, ``reviewer``, ``applicant`` …).
    lane: str
    #: For a countersign by another department: its ``Department.Kind`` (``tax`` …).
    department_kind: str | None
    #: Keys the answer must contain.
    required: tuple[str, ...]
    #: If set, the answer is stored under this key instead of merged into the data.
    output: str | None
    #: An expression over the data with the answer applied; false refuses the answer.
    validate: str | None
    validate_message: str
    #: Every extension property of the task, including the ones above.
    properties: Mapping[str, str]


@dataclass(frozen=True, eq=False)
class ProcessDefinition:
    """A checked BPMN process (with the DMN decisions it uses), ready to :func:`start`."""

    process_id: str
    name: str
    #: SHA-256 over the BPMN document and then each DMN document (see ``_xml.fingerprint``).
    fingerprint: str
    user_tasks: Mapping[str, UserTaskDefinition]
    end_events: tuple[str, ...]
    lanes: tuple[str, ...]
    decisions: Mapping[str, Decision]
    _spec: Any = field(repr=False)
    _subprocess_specs: Any = field(repr=False)


def load_process(bpmn_xml: str, *, rules: Sequence[str] = ()) -> ProcessDefinition:
    """Return the checked process of a BPMN document, with the DMN documents it uses.

    The document must hold exactly one executable process made of supported
    elements; every user task sits in a lane named as a role; every end event
    id, lane name and data key is snake_case; every condition, script and
    validation compiles in the sandbox; every business rule task names a
    decision in ``rules``.

    Raise ProcessDefinitionError naming the element that is wrong.
    """
    decisions = load_decisions(rules)
    root = parse_document(bpmn_xml, "process")
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise ProcessDefinitionError("The process document is not BPMN 2.0 (no bpmn:definitions).")
    try:
        schema_validator().validate(root)
    except ValidationException as error:
        raise ProcessDefinitionError(f"The process document is not valid BPMN 2.0: {said(error)}") from None
    executable = [p for p in root.findall("bpmn:process", NSMAP) if p.get("isExecutable") == "true"]
    if len(executable) != 1:
        raise ProcessDefinitionError(
            f"The process document must hold exactly one executable process "
            f'(isExecutable="true"), not {len(executable)}.'
        )
    process = executable[0]
    lanes = _lanes(process)
    user_tasks = _check_elements(process, lanes, decisions)
    parser = _Parser(decisions)
    try:
        parser.add_bpmn_xml(root)
        spec = parser.get_spec(process.get("id"))
        subprocess_specs = parser.get_subprocess_specs(process.get("id"))
    except ValidationException as error:
        raise ProcessDefinitionError(
            f"The process cannot be used: {said(error)}", element_id=getattr(error, "id", None)
        ) from None
    end_events = tuple(e.get("id") for e in process.iter(f"{{{BPMN_NS}}}endEvent"))
    return ProcessDefinition(
        process_id=process.get("id"),
        name=process.get("name") or process.get("id"),
        fingerprint=fingerprint([bpmn_xml, *rules]),
        user_tasks=MappingProxyType(user_tasks),
        end_events=end_events,
        lanes=tuple(sorted({task.lane for task in user_tasks.values()})),
        decisions=MappingProxyType(dict(decisions)),
        _spec=spec,
        _subprocess_specs=subprocess_specs,
    )


def _lanes(process: Any) -> dict[str, str]:
    """Return the lane name of every flow node that sits in a lane."""
    lanes: dict[str, str] = {}
    for lane in process.iter(f"{{{BPMN_NS}}}lane"):
        for reference in lane.findall("bpmn:flowNodeRef", NSMAP):
            if reference.text:
                lanes[reference.text.strip()] = (lane.get("name") or "").strip()
    return lanes


def _department_kinds() -> frozenset[str]:
    from tongban.kernel.models import Department

    return frozenset(Department.Kind.values)


def _check_elements(
    process: Any, lanes: Mapping[str, str], decisions: Mapping[str, Decision]
) -> dict[str, UserTaskDefinition]:
    user_tasks: dict[str, UserTaskDefinition] = {}
    for element in process:
        kind = local_name(element)
        if not kind:
            continue  # a comment
        if kind not in _FLOW_ELEMENTS and kind not in _ARTEFACTS:
            raise ProcessDefinitionError(
                f"{describe(element)}: {kind} is not supported by the process engine.",
                element_id=element.get("id"),
            )
        if kind in ("startEvent", "endEvent", "intermediateThrowEvent"):
            for child in element:
                if local_name(child).endswith("EventDefinition"):
                    raise ProcessDefinitionError(
                        f"{describe(element)}: only plain events are supported, not {local_name(child)}.",
                        element_id=element.get("id"),
                    )
        if kind == "endEvent" and not SNAKE_CASE.match(element.get("id") or ""):
            raise ProcessDefinitionError(
                f"{describe(element)}: an end event's id is the case's outcome and must be "
                f"snake_case (approved, rejected, not_accepted …).",
                element_id=element.get("id"),
            )
        if kind == "sequenceFlow":
            _check_condition(element)
        elif kind == "scriptTask":
            _check_script(element)
        elif kind == "businessRuleTask":
            reference = element.get(f"{{{CAMUNDA_NS}}}decisionRef")
            if not reference:
                raise ProcessDefinitionError(
                    f"{describe(element)}: a business rule task needs camunda:decisionRef.",
                    element_id=element.get("id"),
                )
            if reference not in decisions:
                known = ", ".join(sorted(decisions)) or "none"
                raise ProcessDefinitionError(
                    f"{describe(element)}: decision {reference!r} is not among the rules (given: {known}).",
                    element_id=element.get("id"),
                )
        elif kind == "userTask":
            task = _user_task(element, lanes)
            user_tasks[task.element_id] = task
    return user_tasks


def _check_condition(flow: Any) -> None:
    condition = flow.find("bpmn:conditionExpression", NSMAP)
    if condition is None:
        return
    language = condition.get("language")
    if language and language.lower() != "python":
        raise ProcessDefinitionError(
            f"{describe(flow)}: conditions are Python expressions, not {language}.",
            element_id=flow.get("id"),
        )
    text = (condition.text or "").strip()
    if not text:
        raise ProcessDefinitionError(f"{describe(flow)}: the condition is empty.", element_id=flow.get("id"))
    try:
        sandbox.check(text)
    except sandbox.SandboxError as error:
        raise ProcessDefinitionError(
            f"{describe(flow)}: the condition {text!r} is refused: {error}", element_id=flow.get("id")
        ) from None


def _check_script(task: Any) -> None:
    script_format = task.get("scriptFormat")
    if script_format and script_format.lower() != "python":
        raise ProcessDefinitionError(
            f"{describe(task)}: scripts are Python, not {script_format}.", element_id=task.get("id")
        )
    script = task.find("bpmn:script", NSMAP)
    if script is None or not (script.text or "").strip():
        raise ProcessDefinitionError(f"{describe(task)}: the script is empty.", element_id=task.get("id"))
    try:
        sandbox.check(script.text, "exec")
    except sandbox.SandboxError as error:
        raise ProcessDefinitionError(
            f"{describe(task)}: the script is refused: {error}", element_id=task.get("id")
        ) from None


def _user_task(element: Any, lanes: Mapping[str, str]) -> UserTaskDefinition:
    element_id = element.get("id")
    where = describe(element)

    def refuse(reason: str) -> ProcessDefinitionError:
        return ProcessDefinitionError(f"{where}: {reason}", element_id=element_id)

    lane = lanes.get(element_id)
    if lane is None:
        raise refuse("every user task must sit in a lane (the lane names the role that does it).")
    if not SNAKE_CASE.match(lane):
        raise refuse(f"the lane {lane!r} must be named as a role in snake_case (window_officer, reviewer …).")
    properties = extension_properties(element)
    kind = properties.get("department_kind") or None
    if kind is not None and kind not in _department_kinds():
        raise refuse(f"department_kind {kind!r} is not a kind of department ({', '.join(sorted(_department_kinds()))}).")
    required = tuple(key.strip() for key in properties.get("required", "").split(",") if key.strip())
    output = properties.get("output") or None
    for key in (*required, *([output] if output else [])):
        if not _IDENTIFIER.match(key):
            raise refuse(f"{key!r} is not a valid data key.")
    validate = (properties.get("validate") or "").strip() or None
    if validate is not None:
        try:
            sandbox.check(validate)
        except sandbox.SandboxError as error:
            raise refuse(f"the validation {validate!r} is refused: {error}") from None
    return UserTaskDefinition(
        element_id=element_id,
        name=(element.get("name") or element_id).strip(),
        lane=lane,
        department_kind=kind,
        required=required,
        output=output,
        validate=validate,
        validate_message=properties.get("validate_message") or "The process refuses this answer.",
        properties=MappingProxyType(properties),
    )


# --- instances --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadyTask:
    """A task waiting for a person."""

    #: Stable across save and restore; pass it to :meth:`ProcessInstance.complete`.
    task_id: str
    element_id: str
    name: str
    lane: str
    department_kind: str | None
    properties: Mapping[str, str]


class ProcessInstance:
    """One running process: advance it, complete its tasks, save it.

    After any method raises ProcessRunError or SandboxError the instance is
    unusable: restore the last saved state (the failed step never happened).
    """

    def __init__(self, definition: ProcessDefinition, workflow: Any) -> None:
        self.definition = definition
        self._workflow = workflow
        self._failed: str | None = None

    def __repr__(self) -> str:
        return f"<ProcessInstance {self.definition.process_id} completed={self.is_completed}>"

    # advancing

    def run(self) -> None:
        """Run the automatic steps (scripts, rules, gateways) until people must act or the process ends.

        Raise SandboxError if process code breaks the sandbox, ProcessRunError
        if a step fails otherwise.
        """
        self._usable()
        try:
            self._workflow.do_engine_steps()
        except Exception as error:
            raise self._failure(error) from error

    def ready_tasks(self) -> list[ReadyTask]:
        """Return the tasks waiting for people, in the order of the process."""
        self._usable()
        ready: list[ReadyTask] = []
        for task in self._workflow.get_tasks(state=TaskState.READY, manual=True):
            definition = self.definition.user_tasks.get(task.task_spec.bpmn_id)
            if definition is None:
                continue
            ready.append(
                ReadyTask(
                    task_id=str(task.id),
                    element_id=definition.element_id,
                    name=definition.name,
                    lane=definition.lane,
                    department_kind=definition.department_kind,
                    properties=definition.properties,
                )
            )
        return ready

    def complete(self, task_id: str, data: Mapping[str, Any] | None = None) -> None:
        """Complete a waiting task with the person's answer, then :meth:`run` what follows.

        The answer is merged into the process data (or stored under the task's
        ``output`` key). Raise TaskNotReady if no such task waits, and
        TaskDataRefused, changing nothing, if the answer is not JSON data,
        lacks a ``required`` key or fails the task's ``validate`` expression.
        """
        self._usable()
        task = self._ready_task(task_id)
        definition = self.definition.user_tasks[task.task_spec.bpmn_id]
        try:
            answer = sandbox.json_safe(dict(data or {}))
        except (sandbox.SandboxError, TypeError, ValueError) as error:
            raise TaskDataRefused(f"The answer is not plain data: {error}", element_id=definition.element_id) from None
        missing = [key for key in definition.required if key not in answer]
        if missing:
            raise TaskDataRefused(
                f"{definition.name}: the answer must give {', '.join(missing)}.",
                element_id=definition.element_id,
            )
        merged = copy.deepcopy(task.data)
        if definition.output:
            merged[definition.output] = answer
        else:
            merged.update(answer)
        if definition.validate is not None:
            try:
                accepted = sandbox.evaluate(definition.validate, merged)
            except sandbox.SandboxError:
                raise
            except Exception as error:
                raise TaskDataRefused(
                    f"{definition.name}: {definition.validate_message} ({type(error).__name__}: {error})",
                    element_id=definition.element_id,
                ) from None
            if not accepted:
                raise TaskDataRefused(
                    f"{definition.name}: {definition.validate_message}", element_id=definition.element_id
                )
        task.data = merged
        try:
            task.run()
        except Exception as error:
            raise self._failure(error) from error
        self.run()

    def _ready_task(self, task_id: str) -> Any:
        try:
            task = self._workflow.get_task_from_id(UUID(str(task_id)))
        except (ValueError, TaskNotFoundException):
            task = None
        if (
            task is None
            or task.state != TaskState.READY
            or task.task_spec.bpmn_id not in self.definition.user_tasks
        ):
            raise TaskNotReady(f"No task {task_id!r} is waiting in this process.")
        return task

    # reading

    @property
    def is_completed(self) -> bool:
        """Return whether the process has ended."""
        return bool(self._workflow.is_completed())

    @property
    def end_event(self) -> str | None:
        """Return the id of the end event the process ended at (``approved`` …), or None while it runs."""
        if not self.is_completed:
            return None
        ends = [
            task
            for task in self._workflow.get_tasks(state=TaskState.COMPLETED)
            if isinstance(task.task_spec, EndEvent)
        ]
        if not ends:
            return None
        return str(max(ends, key=lambda task: task.last_state_change).task_spec.bpmn_id)

    @property
    def data(self) -> dict[str, Any]:
        """Return a copy of the process data (JSON values).

        While tasks wait in parallel branches, the data of the waiting tasks and
        of the task completed last are merged.
        """
        workflow = self._workflow
        last = workflow.last_task
        if workflow.is_completed():
            return copy.deepcopy(last.data) if last is not None else {}
        merged: dict[str, Any] = {}
        for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED):
            merged = DeepMerge.merge(merged, copy.deepcopy(task.data))
        if last is not None:
            # In parallel branches the task completed last holds what the waiting ones lack.
            merged = DeepMerge.merge(merged, copy.deepcopy(last.data))
        return merged

    @property
    def decisions(self) -> list[DecisionOutcome]:
        """Return the outcomes of the business rule tasks that ran, oldest first."""
        recorded = self._workflow.data.get(DECISIONS_KEY, [])
        return [DecisionOutcome.from_dict(outcome) for outcome in recorded]

    # saving

    def serialize(self) -> dict[str, Any]:
        """Return the instance's state as JSON data (for a JSONField); :func:`restore` takes it back."""
        self._usable()
        workflow_state = _SERIALIZER.to_dict(self._workflow)
        workflow_state[_SERIALIZER.VERSION_KEY] = _SERIALIZER.VERSION
        return {
            "format": STATE_FORMAT,
            "process_id": self.definition.process_id,
            "fingerprint": self.definition.fingerprint,
            # As JSON text: SpiffWorkflow rebuilds parallel branches in the order of
            # its task dictionary, and PostgreSQL's jsonb reorders object keys, which
            # loses a branch's data at the join. A string is kept as it is.
            "workflow": json.dumps(workflow_state, separators=(",", ":")),
        }

    # failing

    def _usable(self) -> None:
        if self._failed is not None:
            raise ProcessRunError(
                f"This instance failed ({self._failed}); restore its last saved state."
            )

    def _failure(self, error: Exception) -> Exception:
        element_id = _element_of(error)
        found = _find(error, sandbox.SandboxError)
        if found is not None:
            failure: Exception = sandbox.SandboxError(
                f"{found} (in {element_id})" if element_id else str(found)
            )
        else:
            own = _find(error, ProcessRunError)
            if own is not None:
                failure = own
            else:
                cause = _root_cause(error)
                detail = f"{type(cause).__name__}: {cause}" if cause is not error else str(error)
                failure = ProcessRunError(
                    f"Step {element_id or '?'} failed: {detail}", element_id=element_id
                )
        self._failed = str(failure)
        return failure


_E = TypeVar("_E", bound=BaseException)


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _find(error: BaseException, kind: type[_E]) -> _E | None:
    for link in _chain(error):
        if isinstance(link, kind):
            return link
    return None


def _root_cause(error: BaseException) -> BaseException:
    return _chain(error)[-1]


def _element_of(error: BaseException) -> str | None:
    for link in _chain(error):
        task = getattr(link, "task", None)
        spec = getattr(task, "task_spec", None) or getattr(link, "task_spec", None)
        element_id = getattr(spec, "bpmn_id", None)
        if isinstance(element_id, str):
            return element_id
        if isinstance(link, ProcessRunError) and link.element_id:
            return link.element_id
    return None


def start(definition: ProcessDefinition, data: Mapping[str, Any] | None = None) -> ProcessInstance:
    """Return a new instance of ``definition`` holding ``data``; call :meth:`~ProcessInstance.run` next.

    Raise TaskDataRefused if ``data`` is not JSON data.
    """
    try:
        initial = sandbox.json_safe(dict(data or {}))
    except sandbox.SandboxError as error:
        raise TaskDataRefused(f"The start data are not plain data: {error}", element_id="start") from None
    workflow = BpmnWorkflow(definition._spec, definition._subprocess_specs, script_engine=_SCRIPT_ENGINE)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(copy.deepcopy(initial))
    return ProcessInstance(definition, workflow)


def restore(definition: ProcessDefinition, state: Mapping[str, Any]) -> ProcessInstance:
    """Return the instance saved as ``state`` (from :meth:`ProcessInstance.serialize`), where it was.

    Raise ProcessStateError if ``state`` is not a saved state, or was saved
    for a definition with another fingerprint or process id.
    """
    if not isinstance(state, Mapping) or state.get("format") != STATE_FORMAT:
        raise ProcessStateError(f"This is not a saved process state ({STATE_FORMAT}).")
    if state.get("fingerprint") != definition.fingerprint:
        raise ProcessStateError(
            f"The state was saved for another version of the process "
            f"(fingerprint {str(state.get('fingerprint'))[:12]}…, this one {definition.fingerprint[:12]}…)."
        )
    if state.get("process_id") != definition.process_id:
        raise ProcessStateError(f"The state was saved for process {state.get('process_id')!r}.")
    try:
        saved = state["workflow"]
        workflow_state = json.loads(saved if isinstance(saved, str) else json.dumps(saved))
        _SERIALIZER.migrate(workflow_state)
        workflow = _SERIALIZER.from_dict(
            workflow_state, spec=definition._spec, subprocess_specs=definition._subprocess_specs
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ProcessStateError(f"The saved state is damaged: {type(error).__name__}: {error}") from None
    workflow.script_engine = _SCRIPT_ENGINE
    return ProcessInstance(definition, workflow)
