"""Print the live OpenAPI description of /api/v1, in the form the snapshot keeps.

``python -m tests.api.snapshot > tests/api/openapi.snapshot.json`` (``make
openapi-snapshot``) records it; ``test_openapi_snapshot.py`` compares.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

# Each API's OpenAPI address and the file its snapshot is kept in.
DOCUMENTS = {
    "api": ("/api/v1/openapi.json", "openapi.snapshot.json"),
    "exchange": ("/exchange/v1/openapi.json", "exchange.snapshot.json"),
}


def live_schema(name: str = "api") -> dict[str, Any]:
    """Return the schema exactly as the API ``name`` serves it."""
    from django.test import Client

    url = DOCUMENTS[name][0]
    response = Client().get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    schema: dict[str, Any] = json.loads(response.content)
    return schema


def render(schema: dict[str, Any]) -> str:
    """Return the schema as stable text: sorted keys, two-space indent, final newline."""
    return json.dumps(schema, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    import django
    from django.test.utils import setup_test_environment

    django.setup()
    setup_test_environment()  # lets the test client's host in, as under pytest
    name = sys.argv[1] if len(sys.argv) > 1 else "api"
    print(render(live_schema(name)), end="")


if __name__ == "__main__":
    main()
