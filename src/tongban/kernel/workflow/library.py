"""The standard process library: BPMN and DMN files shipped with Tongban.

Each file opens in bpmn.io or the Camunda Modeler; a service item may use one
as it is or start from a copy. See the package docstring for their data.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from tongban.kernel.workflow.engine import ProcessDefinition, load_process

#: Standard process name -> (its BPMN file, the DMN files it uses).
STANDARD_PROCESSES: dict[str, tuple[str, tuple[str, ...]]] = {
    "review": ("review.bpmn", ()),
    "countersign": ("countersign.bpmn", ()),
    "instant": ("instant.bpmn", ("eligibility.dmn",)),
}


def standard_document(filename: str) -> str:
    """Return the text of a file of the standard library (``review.bpmn``, ``eligibility.dmn`` …).

    Raise FileNotFoundError for a name the library does not have.
    """
    if "/" in filename or "\\" in filename or filename.startswith("."):
        raise FileNotFoundError(filename)
    return resources.files("tongban.kernel.workflow").joinpath("standard", filename).read_text("utf-8")


@cache
def load_standard(name: str) -> ProcessDefinition:
    """Return the loaded standard process ``name`` (``review``, ``countersign``, ``instant``).

    Raise KeyError for another name.
    """
    bpmn, rules = STANDARD_PROCESSES[name]
    return load_process(standard_document(bpmn), rules=[standard_document(dmn) for dmn in rules])
