"""The audit log over the API, as JSON and CSV."""

import csv
import io

from animate.services.audit import audit_record
from tests.api.conftest import api_client


def test_the_log_is_filtered_paginated_and_exported(owner, team, other_team, outsider):
    audit_record(action="budget_changed", team=team, actor=owner, detail={"to": "1"})
    audit_record(action="role_changed", team=team, actor=owner, ip="192.0.2.8")
    audit_record(action="role_changed", team=other_team, actor=outsider)
    client = api_client(owner)

    body = client.get("/api/audit/", {"action": "role_changed"}).json()
    rows = list(csv.DictReader(io.StringIO(b"".join(client.get("/api/audit.csv")).decode("utf-8-sig"))))

    assert body["count"] == 1 and (body["results"][0]["actor"], body["results"][0]["ip"]) == (
        "owner",
        "192.0.2.8",
    )
    # (the client's own login is in the log too)
    assert [row["action"] for row in rows] == ["login", "role_changed", "budget_changed"]
    assert client.get("/api/audit/", {"to": "soon"}).json() == {
        "errors": {"to": ["Enter a date as YYYY-MM-DD."]}
    }
