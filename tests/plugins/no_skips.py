"""Fail the run when a test skips, in CI or with ``--no-skips``.

A skipped test proves nothing, and in CI every dependency (PostgreSQL, chromium,
fonts) is installed, so a skip means something is broken. scripts/test-suite.sh
loads this plugin with ``-p tests.plugins.no_skips``; the option is on by default
when ``CI=true``.
"""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-skips",
        action="store_true",
        default=os.environ.get("CI", "").lower() == "true",
        help="turn every skipped test into a failure (default on when CI=true)",
    )


def _reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report: pytest.TestReport = yield
    if (
        report.skipped
        and not hasattr(report, "wasxfail")
        and item.config.getoption("no_skips")
    ):
        report.outcome = "failed"
        report.longrepr = f"skipped, and skips are not allowed here (--no-skips / CI=true): {_reason(report)}"
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):  # type: ignore[no-untyped-def]
    report: pytest.CollectReport = yield
    if report.skipped and collector.config.getoption("no_skips"):
        report.outcome = "failed"
        report.longrepr = f"module skipped, and skips are not allowed here (--no-skips / CI=true): {_reason(report)}"
    return report
