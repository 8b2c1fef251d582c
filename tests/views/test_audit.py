"""The audit log page and its CSV."""

import csv
import io

from django.urls import reverse

from animate.services.audit import audit_record


def test_the_log_is_filterable_and_exported_with_the_same_filters(client, team, other_team, admin, outsider):
    audit_record(action="budget_changed", team=team, actor=admin, detail={"to": "5"}, ip="192.0.2.4")
    audit_record(action="role_changed", team=team, actor=admin)
    audit_record(action="budget_changed", team=other_team, actor=outsider)
    client.force_login(admin)

    page = client.get(reverse("audit"), {"action": "budget_changed"}).content.decode()
    export = client.get(reverse("audit-export"), {"action": "budget_changed"})

    assert page.count('data-action="budget_changed"') == 1 and 'data-action="role_changed"' not in page
    assert 'href="/audit/export.csv?action=budget_changed"' in page
    rows = list(csv.DictReader(io.StringIO(b"".join(export).decode("utf-8-sig"))))
    assert [(row["action"], row["actor"], row["ip"]) for row in rows] == [
        ("budget_changed", "ada", "192.0.2.4")
    ]


def test_a_bad_filter_is_shown_beside_its_field(client, admin):
    client.force_login(admin)
    response = client.get(reverse("audit"), {"from": "someday"})
    assert response.status_code == 400 and b"Enter a date as YYYY-MM-DD." in response.content
    assert client.get(reverse("audit-export"), {"action": "x"}).status_code == 400
