"""DMN decision tables: load them once, decide over data, and say which rule decided.

A decision (one ``dmn:decision`` with one decision table per DMN document, as
the Camunda Modeler writes them) is read with SpiffWorkflow's DMN parser and
then evaluated here, in the sandbox, so that the outcome records the rules that
matched: their ids, row numbers and annotations (``<description>``). A case can
then say "approved by rule R2: applicant is 18+ and has no licence".

Entries follow SpiffWorkflow's conventions: an input expression and its
entries are Python; an entry that is a whole expression is compared with ``==``
(``"tax"``, ``True``), one that starts with an operator continues the input
(``>= 18``, ``in ("a", "b")``), ``?`` stands for the input (``16 <= ? < 60``),
and an empty entry or ``-`` matches anything. Hit policies: ``UNIQUE`` (at most
one rule may match), ``FIRST``, ``COLLECT`` and ``RULE ORDER`` (every output a
list). When no rule matches, every output is ``None`` (``[]`` when collecting).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.dmn.parser.BpmnDmnParser import BpmnDmnParser

from tongban.kernel.workflow import sandbox
from tongban.kernel.workflow._xml import (
    fingerprint,
    local_name,
    parse_document,
    said,
    schema_validator,
)
from tongban.kernel.workflow.errors import ProcessDefinitionError, ProcessRunError

HIT_POLICIES = ("UNIQUE", "FIRST", "COLLECT", "RULE ORDER")
_COLLECTING = ("COLLECT", "RULE ORDER")
# "?" outside quotes stands for the input value (SpiffWorkflow's convention).
_QUESTION_MARK = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class RuleHit:
    """One rule of a decision table that matched."""

    rule_id: str
    #: The rule's row, counting from 1.
    index: int
    #: The rule's annotation (the table's "Annotations" column).
    description: str

    def as_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "index": self.index, "description": self.description}


@dataclass(frozen=True)
class DecisionOutcome:
    """What a decision table decided, and which rules decided it."""

    decision_id: str
    decision_name: str
    hits: tuple[RuleHit, ...]
    #: The outputs by name (JSON values), as they were merged into the data.
    outputs: Mapping[str, Any]
    #: The business rule task that asked, when it ran inside a process.
    element_id: str | None = None

    @property
    def rule(self) -> RuleHit | None:
        """Return the first matching rule, or None if none matched."""
        return self.hits[0] if self.hits else None

    def explain(self) -> str:
        """Return one line saying which rule decided, e.g. ``eligibility: rule 2 (R2): 18 or older``."""
        if not self.hits:
            return f"{self.decision_id}: no rule matched"
        matched = "; ".join(
            f"rule {hit.index} ({hit.rule_id})" + (f": {hit.description}" if hit.description else "")
            for hit in self.hits
        )
        return f"{self.decision_id}: {matched}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "decision_name": self.decision_name,
            "hits": [hit.as_dict() for hit in self.hits],
            "outputs": dict(self.outputs),
            "element_id": self.element_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DecisionOutcome:
        return cls(
            decision_id=data["decision_id"],
            decision_name=data["decision_name"],
            hits=tuple(RuleHit(**hit) for hit in data["hits"]),
            outputs=dict(data["outputs"]),
            element_id=data.get("element_id"),
        )


@dataclass(frozen=True)
class _Rule:
    rule_id: str
    index: int
    description: str
    #: One compiled expression per non-empty input entry.
    conditions: tuple[str, ...]
    #: Output name -> expression (None: the output is None).
    outputs: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True, eq=False)
class Decision:
    """A checked DMN decision table, ready to :func:`decide` over data."""

    id: str
    name: str
    hit_policy: str
    output_names: tuple[str, ...]
    #: SHA-256 of the DMN document (see ``fingerprint``).
    fingerprint: str
    _rules: tuple[_Rule, ...] = field(repr=False)

    def decide(self, data: Mapping[str, Any], *, element_id: str | None = None) -> DecisionOutcome:
        """Return the outcome of this table over ``data`` (see :func:`decide`)."""
        matched: list[_Rule] = []
        for rule in self._rules:
            if all(self._holds(rule, condition, data) for condition in rule.conditions):
                matched.append(rule)
                if self.hit_policy == "FIRST":
                    break
        if self.hit_policy == "UNIQUE" and len(matched) > 1:
            rows = ", ".join(f"{rule.index} ({rule.rule_id})" for rule in matched)
            raise ProcessRunError(
                f"Decision {self.id!r} has hit policy UNIQUE but rules {rows} all match.",
                element_id=element_id,
            )
        outputs: dict[str, Any]
        if self.hit_policy in _COLLECTING:
            outputs = {name: [] for name in self.output_names}
            for rule in matched:
                for name, value in self._outputs(rule, data).items():
                    outputs[name].append(value)
        elif matched:
            outputs = self._outputs(matched[0], data)
        else:
            outputs = dict.fromkeys(self.output_names)
        return DecisionOutcome(
            decision_id=self.id,
            decision_name=self.name,
            hits=tuple(RuleHit(rule.rule_id, rule.index, rule.description) for rule in matched),
            outputs=sandbox.json_safe(outputs),
            element_id=element_id,
        )

    def _holds(self, rule: _Rule, condition: str, data: Mapping[str, Any]) -> bool:
        try:
            return bool(sandbox.evaluate(condition, data))
        except sandbox.SandboxError:
            raise
        except Exception as error:
            raise ProcessRunError(
                f"Decision {self.id!r}, rule {rule.index} ({rule.rule_id}): "
                f"{condition!r} failed: {type(error).__name__}: {error}"
            ) from error

    def _outputs(self, rule: _Rule, data: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, expression in rule.outputs:
            if expression is None:
                values[name] = None
                continue
            try:
                values[name] = sandbox.evaluate(expression, data)
            except sandbox.SandboxError:
                raise
            except Exception as error:
                raise ProcessRunError(
                    f"Decision {self.id!r}, rule {rule.index} ({rule.rule_id}): output {name!r} "
                    f"{expression!r} failed: {type(error).__name__}: {error}"
                ) from error
        return values


def decide(decision: Decision, data: Mapping[str, Any]) -> DecisionOutcome:
    """Return what ``decision`` decides over ``data``, with the rules that matched.

    Raise SandboxError if an entry breaks the sandbox's limits, ProcessRunError
    if an entry fails (a missing name …) or a UNIQUE table has several matches.
    """
    return decision.decide(data)


def load_decision(dmn_xml: str) -> Decision:
    """Return the checked decision of a DMN document; every entry is compiled in the sandbox.

    Raise ProcessDefinitionError naming the decision, rule or entry that is wrong.
    """
    root = parse_document(dmn_xml, "rules")
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if root.tag != f"{{{namespace}}}definitions" or namespace not in DMN_SCHEMAS:
        raise ProcessDefinitionError("The rules document is not DMN 1.1, 1.2 or 1.3 (no dmn:definitions).")
    parser = BpmnDmnParser()  # validated just below, with a validator kept per thread
    try:
        schema_validator(DMN_SCHEMAS[namespace]).validate(root)
        parser.add_dmn_xml(root)
        [dmn_parser] = parser.dmn_parsers.values()
        dmn_parser.parse()
    except ValidationException as error:
        raise ProcessDefinitionError(
            f"The rules document is not valid DMN: {said(error)}", element_id=getattr(error, "id", None)
        ) from None
    except ValueError:
        raise ProcessDefinitionError("The rules document holds no decision.") from None
    decision = dmn_parser.decision
    if len(decision.decisionTables) != 1:
        raise ProcessDefinitionError(
            f"Decision {decision.id!r} must hold exactly one decision table.", element_id=decision.id
        )
    for element in root.iter():
        if local_name(element) == "decisionTable" and element.get("aggregation"):
            raise ProcessDefinitionError(
                f"Decision {decision.id!r}: aggregations are not supported.", element_id=decision.id
            )
    return _compile_decision(decision, fingerprint([dmn_xml]))


def _compile_decision(decision: Any, digest: str) -> Decision:
    table = decision.decisionTables[0]
    where = f"Decision {decision.id!r}"
    if table.hit_policy not in HIT_POLICIES:
        raise ProcessDefinitionError(
            f"{where}: hit policy {table.hit_policy!r} is not supported (use one of {', '.join(HIT_POLICIES)}).",
            element_id=decision.id,
        )
    for dmn_input in table.inputs:
        if not (dmn_input.expression or "").strip():
            raise ProcessDefinitionError(
                f"{where}: input {dmn_input.label or dmn_input.id!r} has no expression.",
                element_id=dmn_input.id,
            )
        _check(dmn_input.expression.strip(), f"{where}, input {dmn_input.label or dmn_input.id!r}", dmn_input.id)
    output_names: list[str] = []
    for output in table.outputs:
        name = output.name or output.label
        if not name or not _IDENTIFIER.match(name):
            raise ProcessDefinitionError(
                f"{where}: output {output.id!r} needs a name that is a plain identifier, not {name!r}.",
                element_id=output.id,
            )
        output_names.append(name)
    if len(set(output_names)) != len(output_names):
        raise ProcessDefinitionError(f"{where}: two outputs have the same name.", element_id=decision.id)
    rules: list[_Rule] = []
    for rule in table.rules:
        here = f"{where}, rule {rule.row_number} ({rule.id})"
        conditions: list[str] = []
        for entry in rule.inputEntries:
            text = (entry.lhs[0] if entry.lhs else None) or ""
            expression = _entry_expression(entry.input.expression.strip(), text.strip())
            if expression is not None:
                _check(expression, f"{here}, entry {text.strip()!r}", entry.id)
                conditions.append(expression)
        outputs: list[tuple[str, str | None]] = []
        for name, entry in zip(output_names, rule.outputEntries, strict=False):
            text = (entry.text or "").strip()
            if text:
                _check(text, f"{here}, output {name!r}", entry.id)
            outputs.append((name, text or None))
        rules.append(
            _Rule(
                rule_id=rule.id,
                index=rule.row_number,
                description=(rule.description or "").strip(),
                conditions=tuple(conditions),
                outputs=tuple(outputs),
            )
        )
    return Decision(
        id=decision.id,
        name=decision.name or decision.id,
        hit_policy=table.hit_policy,
        output_names=tuple(output_names),
        fingerprint=digest,
        _rules=tuple(rules),
    )


def _entry_expression(input_expression: str, entry: str) -> str | None:
    if not entry or entry == "-":
        return None
    if _QUESTION_MARK.search(entry):
        return _QUESTION_MARK.sub(f"({input_expression})", entry)
    if sandbox.is_valid_syntax(entry):
        return f"({input_expression}) == ({entry})"
    return f"({input_expression}) {entry}"


def _check(expression: str, where: str, element_id: str | None) -> None:
    try:
        sandbox.check(expression)
    except sandbox.SandboxError as error:
        raise ProcessDefinitionError(f"{where}: {error}", element_id=element_id) from None


def load_decisions(documents: Sequence[str]) -> dict[str, Decision]:
    """Return the decisions of several DMN documents by id; refuse two with the same id."""
    decisions: dict[str, Decision] = {}
    for document in documents:
        decision = load_decision(document)
        if decision.id in decisions:
            raise ProcessDefinitionError(
                f"Two rules documents define decision {decision.id!r}.", element_id=decision.id
            )
        decisions[decision.id] = decision
    return decisions
