"""What the process engine raises (the sandbox's own SandboxError is in ``sandbox``)."""

from __future__ import annotations

from tongban.kernel.problems import Conflict, InvalidInput


class WorkflowError(Exception):
    """Base class of the process engine's errors."""


class ProcessDefinitionError(WorkflowError, InvalidInput):
    """A BPMN or DMN document cannot be used; the message names the element.

    A problem (422) with ``element_id`` as an extension, so that a service that
    stores process files can pass it to the administrator as it is.
    """

    title = "The process definition cannot be used"

    def __init__(self, detail: str, *, element_id: str | None = None) -> None:
        super().__init__(detail, **({"element_id": element_id} if element_id else {}))
        self.element_id = element_id


class ProcessRunError(WorkflowError):
    """An automatic step failed at run time (an expression raised, no gateway branch applied …).

    The instance is left unusable; restore the last saved state instead.
    """

    def __init__(self, detail: str, *, element_id: str | None = None) -> None:
        super().__init__(detail)
        self.element_id = element_id


class TaskNotReady(WorkflowError, Conflict):
    """The task is unknown, already done, or not a task for a person (409)."""

    title = "The task is not waiting for anyone"


class TaskDataRefused(WorkflowError, InvalidInput):
    """The data given to complete a task are refused by the process (422); nothing changed."""

    title = "The process refuses this answer"

    def __init__(self, detail: str, *, element_id: str) -> None:
        super().__init__(detail, element_id=element_id)
        self.element_id = element_id


class ProcessStateError(WorkflowError):
    """A saved state cannot be restored: not a state, or saved for another definition."""
