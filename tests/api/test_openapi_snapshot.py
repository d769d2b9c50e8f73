"""The API's OpenAPI description does not drift without a reviewed snapshot.

A change to the API shows up as a diff of tests/api/openapi.snapshot.json in the
same commit: run ``make openapi-snapshot`` and commit the result.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from .snapshot import DOCUMENTS, live_schema, render

SNAPSHOT = Path(__file__).with_name("openapi.snapshot.json")


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_the_openapi_description_matches_the_committed_snapshot(name):
    url, filename = DOCUMENTS[name]
    snapshot = Path(__file__).with_name(filename)
    live = render(live_schema(name))
    committed = snapshot.read_text(encoding="utf-8") if snapshot.exists() else ""

    if live != committed:
        diff = "".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(keepends=True), live.splitlines(keepends=True),
                    fromfile=f"tests/api/{filename} (committed)", tofile=f"{url} (live)",
                )
            )[:200]
        )
        raise AssertionError(
            "The API changed but its OpenAPI snapshot did not. If the change is intended, "
            f"run `make openapi-snapshot` and commit tests/api/{filename}.\n" + diff
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
