"""The sandbox of process expressions and scripts: no way out, bounded time and size."""

from __future__ import annotations

import datetime as dt

import pytest

from tongban.kernel.workflow import sandbox
from tongban.kernel.workflow.sandbox import SandboxError

# Each of these must be refused when checked or stopped when run, with SandboxError.
ESCAPES = [
    "open('/etc/passwd').read()",
    "open('/etc/passwd')",
    "__import__('os').system('true')",
    "().__class__.__base__.__subclasses__()",
    "[].__class__.__mro__[1].__subclasses__()",
    "type(1)",
    "type('X', (), {})",
    "type.mro(type)",
    "'{0.__class__}'.format(1)",
    "'{0.__class__.__init__.__globals__}'.format(applicant)",
    "'%s' % (1,)",
    "f'{applicant.__class__}'",
    "getattr(1, 'real')",
    "eval('1')",
    "exec('x = 1')",
    "compile('1', 'x', 'eval')",
    "globals()",
    "vars()",
    "(x for x in [1]).gi_frame",
    "applicant.get.__self__",
    "age.__globals__",
    "len.__self__",
    "list.extend",
    "(lambda: 1)()",
    "applicant['name'].format_map({})",
]

SCRIPT_ESCAPES = [
    "import os",
    "from os import path",
    "def f():\n    return 1",
    "class X:\n    pass",
    "try:\n    x = 1\nexcept Exception:\n    pass",
    "global x\nx = 1",
    "with open('/etc/passwd') as f:\n    x = 1",
    "x = [*range(3)]",
]

BOMBS = [
    ("while True: pass", "steps"),
    ("x = 0\nwhile True:\n    x = x + 1", "steps"),
    ("x = sum(range(10**12))", "range"),
    ("x = list(range(10**30))", "range"),
    ("x = 'x' * 10**10", "size"),
    ("x = [0] * 10**10", "size"),
    ("x = 10**10**10", "bits"),
    ("x = 1 << 10**10", "bits"),
    ("x = 2\nfor i in range(100):\n    x = x * x", "bits"),
    ("s = 'x' * 999999\nt = ''.join([s] * 1000)", "size"),
    ("s = 'x' * 999999\nt = s.replace('x', 'yy')", "size"),
    ("l = [1]\nfor i in range(40):\n    l.extend(l)", "size"),
    ("l = [1]\nfor i in range(40):\n    l = l + l", "size"),
    ("l = [1]\nfor i in range(40):\n    l += l", "size"),
    ("x = [a for a in range(100000) for b in range(100000)]", "steps"),
    ("x = sum(1 for a in range(100000) for b in range(100000))", "steps"),
    ("s = 'x' * 999999\nl = []\nfor i in range(100000):\n    l.append(s[:])", "items"),
    ("x = f'{[[1] * 1000] * 1000}'", "plain values"),
    ("x = str([[1] * 1000] * 1000)", "plain values"),
    ("x = f'{1:>999999999}'", "too wide"),
    ("x = sum([[1]] * 1000, [])", "numbers"),
]


@pytest.mark.parametrize("expression", ESCAPES)
def test_an_expression_cannot_reach_files_modules_or_internals(expression):
    # given data a rule would see
    data = {"applicant": {"name": "张三", "birth_date": "1990-03-07"}}

    # when / then: refused when checked, or when run
    with pytest.raises(SandboxError):
        sandbox.check(expression)
        sandbox.evaluate(expression, data)


@pytest.mark.parametrize("script", SCRIPT_ESCAPES)
def test_a_script_cannot_import_define_or_catch(script):
    with pytest.raises(SandboxError):
        sandbox.check(script, "exec")


@pytest.mark.parametrize(("script", "reason"), BOMBS)
def test_loops_and_huge_values_fail_quickly_with_a_clear_error(script, reason):
    # given a script that would hang or eat memory
    data: dict[str, object] = {}

    # when it runs, then it is stopped by its budget, and data are unchanged
    with pytest.raises(SandboxError, match=reason):
        sandbox.execute(script, data)
    assert data == {}


def test_a_loop_is_also_stopped_by_the_clock():
    # given a budget of many steps but little time
    limits = sandbox.Limits(max_steps=10**9, max_seconds=0.05)

    # when an endless loop runs, then the clock stops it
    with pytest.raises(SandboxError, match="longer than"):
        sandbox.execute("while True: pass", {}, limits=limits)


def test_a_name_that_is_not_in_the_data_is_an_ordinary_error():
    with pytest.raises(NameError):
        sandbox.evaluate("missing > 1", {})


def test_a_data_key_shadows_an_unavailable_builtin():
    # given a form field called "type" (a common field name)
    data = {"type": "individual"}

    # when an expression reads it, then it is the data, not Python's type
    assert sandbox.evaluate("type == 'individual'", data) is True


def test_legitimate_expressions_over_task_data_work():
    # given task data of dicts, lists and dates
    data = {
        "applicant": {"name": "李四", "birth_date": "2000-05-01", "tags": ["resident", "veteran"]},
        "materials": [{"kind": "id_card", "pages": 2}, {"kind": "photo", "pages": 1}],
        "submitted_on": "2026-03-01",
    }

    # then
    assert sandbox.evaluate("age(applicant['birth_date'], on='2026-04-30') == 25", data)
    assert sandbox.evaluate("age(applicant['birth_date'], on='2026-05-01') == 26", data)
    assert sandbox.evaluate("'veteran' in applicant['tags'] and len(materials) == 2", data)
    assert sandbox.evaluate("sum(m['pages'] for m in materials)", data) == 3
    assert sandbox.evaluate("sorted(m['kind'] for m in materials)", data) == ["id_card", "photo"]
    assert sandbox.evaluate("{m['kind']: m['pages'] for m in materials}.get('photo')", data) == 1
    assert sandbox.evaluate("any(m['kind'].startswith('id') for m in materials)", data)
    assert sandbox.evaluate("days_between(submitted_on, '2026-03-31')", data) == 30
    assert sandbox.evaluate("add_days(submitted_on, 20).isoformat()", data) == "2026-03-21"
    assert sandbox.evaluate("date(submitted_on).year", data) == 2026
    assert sandbox.evaluate("date(2026, 3, 1) == date(submitted_on)", data)
    assert sandbox.evaluate("f\"{applicant['name']}: {len(materials):>3}\"", data) == "李四:   2"
    assert sandbox.evaluate("applicant['name'] + ' ' + str(2 ** 10)", data) == "李四 1024"
    assert sandbox.evaluate("[i * 2 for i in range(5) if i % 2 == 0][-1]", data) == 8
    assert sandbox.evaluate("today() >= date('2026-01-01')", data)


def test_a_script_assigns_and_deletes_data_and_leaves_only_json_values():
    # given
    data = {"count": 1, "scratch": "x", "applicant": {"birth_date": "2000-05-01"}}

    # when
    sandbox.execute(
        "count += 1\n"
        "del scratch\n"
        "due = add_days('2026-03-01', 20)\n"
        "pair = (1, 2)\n"
        "adult = age(applicant['birth_date'], on='2026-03-01') >= 18\n"
        "total = 0\n"
        "for n in range(10):\n"
        "    if n == 5:\n"
        "        break\n"
        "    total += n\n",
        data,
    )

    # then
    assert data == {
        "count": 2,
        "applicant": {"birth_date": "2000-05-01"},
        "due": "2026-03-21",
        "pair": [1, 2],
        "adult": True,
        "total": 10,
        "n": 5,
    }


def test_a_script_that_leaves_a_set_is_refused_and_changes_nothing():
    data = {"count": 1}

    with pytest.raises(SandboxError, match="set"):
        sandbox.execute("count = 2\nkinds = {'a', 'b'}", data)
    assert data == {"count": 1}


def test_json_safe_turns_dates_into_text_and_refuses_the_rest():
    assert sandbox.json_safe({"on": dt.date(2026, 1, 2), "xs": (1, 2.5, None)}) == {
        "on": "2026-01-02",
        "xs": [1, 2.5, None],
    }
    with pytest.raises(SandboxError):
        sandbox.json_safe({"bad": float("nan")})
    with pytest.raises(SandboxError):
        sandbox.json_safe({1: "key is not text"})
    deep: list[object] = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(SandboxError, match="deeply"):
        sandbox.json_safe(deep)


def test_code_that_is_too_long_or_too_deep_is_refused():
    with pytest.raises(SandboxError):
        sandbox.check("1 + " * 10_000 + "1")
    with pytest.raises(SandboxError):
        sandbox.check("(" * 500 + "1" + ")" * 500)


def test_a_syntax_error_is_reported_as_a_sandbox_error_with_its_line():
    with pytest.raises(SandboxError, match="line 2"):
        sandbox.check("x = 1\nx = = 2", "exec")
