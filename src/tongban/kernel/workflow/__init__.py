"""The process engine: BPMN 2.0 processes and DMN rules, run by SpiffWorkflow in a sandbox.

A generic kernel package with no models (ADR 0017). A block that handles
applications keeps, per case, the process state returned by
:meth:`ProcessInstance.serialize` in a JSON column, and the BPMN/DMN texts
with its service items; the engine turns one into the other::

    definition = load_process(bpmn_xml, rules=[dmn_xml])   # checks everything once
    instance = start(definition, {"applicant": {...}})
    instance.run()                                         # automatic steps
    for task in instance.ready_tasks():                    # waiting for people
        task.task_id, task.element_id, task.lane, task.department_kind
    instance.complete(task_id, {"accepted": True})         # answer, then run on
    state = instance.serialize()                           # JSON, with the fingerprint
    instance = restore(definition, state)                  # continues where it was
    instance.is_completed, instance.end_event              # "approved", "rejected" …
    instance.decisions[0].explain()                        # which DMN rule decided

Errors: :class:`ProcessDefinitionError` (a 422 problem naming the element)
when loading; :class:`SandboxError` when process code breaks the sandbox and
:class:`ProcessRunError` when an automatic step fails (the instance is then
unusable; restore the last saved state); :class:`TaskNotReady` (409) and
:class:`TaskDataRefused` (422, nothing changed) from ``complete``;
:class:`ProcessStateError` from ``restore``.

Conventions a process follows (checked by :func:`load_process`):

- Exactly one executable process (``isExecutable="true"``), made of start and
  end events, user, script and business rule tasks, plain tasks, exclusive,
  inclusive and parallel gateways and sequence flows (plus lanes, annotations).
- **Lanes are roles.** Every user task sits in a lane whose name is the officer
  role that does it, in snake_case: ``window_officer``, ``reviewer``, or
  ``applicant`` for what the applicant does (a supplement).
- **End event ids are outcomes**, in snake_case: ``approved``, ``rejected``,
  ``not_accepted``, ``withdrawn``. Several flows may end at the same one.
- **Expressions and scripts are Python** in the sandbox (:mod:`.sandbox`):
  names are the process data keys; helpers ``date``, ``today``, ``age``,
  ``days_between``, ``add_days``. Gateway conditions are
  ``conditionExpression`` texts; scripts have ``scriptFormat="python"``.
- **User task extension properties** (``camunda:properties``, "Extension
  properties" in the Camunda Modeler): ``department_kind`` (a
  ``Department.Kind`` for a countersign by another department: ``tax``,
  ``natural_resources`` …); ``required`` (comma-separated keys the answer must
  give); ``output`` (store the answer under this key instead of merging it:
  parallel branches must not write the same keys); ``validate`` (an
  expression over the data with the answer applied) and ``validate_message``
  (why an answer failing it is refused).
- **Business rule tasks** name a decision with ``camunda:decisionRef``; its
  outputs are merged into the data and its outcome, with the rules that
  matched, is kept (:attr:`ProcessInstance.decisions`).

The standard library (:func:`load_standard`, files in ``standard/``):

- ``review``: ``accept`` (window_officer; answer ``accepted``) → end
  ``not_accepted`` | ``review`` (reviewer; ``supplement_requested``) → once at
  most, ``supplement`` (applicant; ``withdrawn``) → end ``withdrawn`` | back to
  ``review`` (a second request is refused; ``supplement_count`` is kept by the
  process) → ``decide`` (reviewer; ``decision`` is ``approve`` or ``reject``)
  → end ``approved`` | ``rejected``.
- ``countersign``: ``accept`` → ``review`` (reviewer) → in parallel
  ``countersign_natural_resources`` and ``countersign_tax`` (reviewer lane,
  department kinds as properties; answer ``agreed``, stored under the task's
  id) → both agreed: ``decide`` → ``approved`` | ``rejected``; otherwise end
  ``rejected``.
- ``instant`` with ``eligibility.dmn``: ``check_eligibility`` decides from
  ``applicant.birth_date`` and ``holds_result_licence``; ``eligible`` → end
  ``approved`` with no one involved; otherwise ``accept`` → ``decide``.
"""

from tongban.kernel.workflow.engine import (
    ProcessDefinition,
    ProcessInstance,
    ReadyTask,
    UserTaskDefinition,
    load_process,
    restore,
    start,
)
from tongban.kernel.workflow.errors import (
    ProcessDefinitionError,
    ProcessRunError,
    ProcessStateError,
    TaskDataRefused,
    TaskNotReady,
    WorkflowError,
)
from tongban.kernel.workflow.library import STANDARD_PROCESSES, load_standard, standard_document
from tongban.kernel.workflow.rules import (
    Decision,
    DecisionOutcome,
    RuleHit,
    decide,
    load_decision,
)
from tongban.kernel.workflow.sandbox import Limits, SandboxError

__all__ = [
    "STANDARD_PROCESSES",
    "Decision",
    "DecisionOutcome",
    "Limits",
    "ProcessDefinition",
    "ProcessDefinitionError",
    "ProcessInstance",
    "ProcessRunError",
    "ProcessStateError",
    "ReadyTask",
    "RuleHit",
    "SandboxError",
    "TaskDataRefused",
    "TaskNotReady",
    "UserTaskDefinition",
    "WorkflowError",
    "decide",
    "load_decision",
    "load_process",
    "load_standard",
    "restore",
    "standard_document",
    "start",
]
