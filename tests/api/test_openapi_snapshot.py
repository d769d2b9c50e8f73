"""The API's OpenAPI description does not drift without a reviewed snapshot.

A change to the API shows up as a diff of tests/api/openapi.snapshot.json in the
same commit: run ``make openapi-snapshot`` and commit the result.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

from .snapshot import live_schema, render

SNAPSHOT = Path(__file__).with_name("openapi.snapshot.json")


def test_the_openapi_description_matches_the_committed_snapshot():
    live = render(live_schema())
    committed = SNAPSHOT.read_text(encoding="utf-8") if SNAPSHOT.exists() else ""

    if live != committed:
        diff = "".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(keepends=True), live.splitlines(keepends=True),
                    fromfile="tests/api/openapi.snapshot.json (committed)", tofile="/api/v1/openapi.json (live)",
                )
            )[:200]
        )
        raise AssertionError(
            "The API changed but its OpenAPI snapshot did not. If the change is intended, "
            "run `make openapi-snapshot` and commit tests/api/openapi.snapshot.json.\n" + diff
        )


def test_the_snapshot_is_an_openapi_3_1_description():
    schema = json.loads(SNAPSHOT.read_text(encoding="utf-8"))

    assert schema["openapi"].startswith("3.1")
    assert schema["info"]["title"] == "Tongban API"
    assert schema["paths"], "the snapshot lists no paths"


def test_the_live_description_is_served_without_authentication(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
