"""DMN decisions on their own: which rule decided, hit policies, failures."""

from __future__ import annotations

import pytest

from tongban.kernel.workflow import ProcessRunError, SandboxError, decide, load_decision

from .documents import eligibility_rules

TABLE = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="fees" name="Fees" namespace="https://tongban.example/dmn">
  <decision id="fee" name="Fee">
    <decisionTable id="fee_table" hitPolicy="{policy}">
      <input id="in_area" label="Area"><inputExpression id="in_area_e" typeRef="number"><text>area</text></inputExpression></input>
      <input id="in_kind" label="Kind"><inputExpression id="in_kind_e" typeRef="string"><text>kind</text></inputExpression></input>
      <output id="out_fee" label="Fee" name="fee" typeRef="number" />
      <output id="out_note" label="Note" name="note" typeRef="string" />
      <rule id="small"><description>small plots</description>
        <inputEntry id="s1"><text>0 &lt; ? &lt;= 100</text></inputEntry><inputEntry id="s2"><text>-</text></inputEntry>
        <outputEntry id="s3"><text>area * 2</text></outputEntry><outputEntry id="s4"><text>"small"</text></outputEntry></rule>
      <rule id="farm"><description>farm land is free</description>
        <inputEntry id="f1"><text></text></inputEntry><inputEntry id="f2"><text>in ("farm", "forest")</text></inputEntry>
        <outputEntry id="f3"><text>0</text></outputEntry><outputEntry id="f4"><text></text></outputEntry></rule>
      <rule id="other"><description>everything else</description>
        <inputEntry id="o1"><text>&gt; 100</text></inputEntry><inputEntry id="o2"><text>"shop"</text></inputEntry>
        <outputEntry id="o3"><text>500</text></outputEntry><outputEntry id="o4"><text>"large"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


def test_a_decision_says_which_rule_decided():
    eligibility = load_decision(eligibility_rules())

    outcome = decide(eligibility, {"applicant": {"birth_date": "2015-06-01"}, "holds_result_licence": False})

    assert outcome.outputs == {"eligible": False}
    assert outcome.rule is not None
    assert (outcome.rule.rule_id, outcome.rule.index, outcome.rule.description) == (
        "R1",
        1,
        "applicant is under 18",
    )


def test_entries_compare_continue_or_bracket_the_input():
    fees = load_decision(TABLE.format(policy="FIRST"))

    assert decide(fees, {"area": 40, "kind": "shop"}).outputs == {"fee": 80, "note": "small"}
    assert decide(fees, {"area": 400, "kind": "forest"}).outputs == {"fee": 0, "note": None}
    assert decide(fees, {"area": 400, "kind": "shop"}).rule.rule_id == "other"


def test_no_matching_rule_gives_none_outputs_and_no_rule():
    fees = load_decision(TABLE.format(policy="FIRST"))

    outcome = decide(fees, {"area": 400, "kind": "factory"})

    assert outcome.outputs == {"fee": None, "note": None}
    assert outcome.rule is None
    assert outcome.explain() == "fee: no rule matched"


def test_a_unique_table_with_two_matching_rules_fails():
    fees = load_decision(TABLE.format(policy="UNIQUE"))

    with pytest.raises(ProcessRunError, match=r"small.*farm"):
        decide(fees, {"area": 40, "kind": "farm"})


def test_a_collecting_table_lists_every_matching_rule():
    fees = load_decision(TABLE.format(policy="COLLECT"))

    outcome = decide(fees, {"area": 40, "kind": "farm"})

    assert outcome.outputs == {"fee": [80, 0], "note": ["small", None]}
    assert [hit.rule_id for hit in outcome.hits] == ["small", "farm"]


def test_a_failing_entry_names_its_rule_and_a_bomb_is_stopped():
    fees = load_decision(TABLE.format(policy="FIRST"))
    bomb = load_decision(TABLE.format(policy="FIRST").replace("area * 2", "'x' * 10**10"))

    with pytest.raises(ProcessRunError, match=r"rule 1 \(small\).*NameError"):
        decide(fees, {"kind": "shop"})
    with pytest.raises(SandboxError):
        decide(bomb, {"area": 40, "kind": "shop"})
