"""The API is an interface others script against: its schema changes only on purpose.

After an intended change, refresh the snapshot with `make openapi` and review the diff.
"""

import json
from pathlib import Path

SNAPSHOT = Path(__file__).resolve().parents[2] / "docs" / "openapi-v1.json"


def test_openapi_schema_matches_the_committed_snapshot(client, db):
    current = client.get("/api/v1/openapi.json").json()
    committed = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert current == committed, "The API schema changed: run `make openapi` and review the diff."
