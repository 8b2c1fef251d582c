"""Share links over the API: create (URL shown once), list (admins: all), revoke; team-scoped."""

import pytest

from animate.models import ShareLink
from tests.api.conftest import api_client
from tests.reviewkit import result, run


@pytest.fixture
def output(creator, image, video):
    return result(run(creator, image, video))


def test_a_link_is_created_opened_listed_and_revoked(creator, owner, output):
    client = api_client(creator)

    created = client.post("/api/shares/", {"output": output.pk, "expires_in": "1h"}, format="json")

    assert created.status_code == 201
    url = created.json()["url"]
    assert "/s/" in url and created.json()["label"] == f"Output #{output.pk}"
    assert api_client().get(url).status_code == 200
    assert [link["id"] for link in api_client(owner).get("/api/shares/").json()] == [created.json()["id"]]
    assert "url" not in api_client(owner).get("/api/shares/").json()[0]
    revoked = api_client(owner).delete(f"/api/shares/{created.json()['id']}/")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert api_client().get(url).status_code == 404
    assert client.get("/api/shares/").json() == []


def test_share_errors_name_their_field(creator, output):
    client = api_client(creator)

    assert list(
        client.post("/api/shares/", {"output": output.pk, "expires_in": "1y"}, format="json").json()["errors"]
    ) == ["expires_in"]
    assert list(client.post("/api/shares/", {}, format="json").json()["errors"]) == ["target"]
    assert list(client.post("/api/shares/", {"board": 999}, format="json").json()["errors"]) == ["board"]


def test_a_reviewer_cannot_revoke_someone_elses_link(creator, reviewer, output):
    link = api_client(creator).post("/api/shares/", {"output": output.pk}, format="json").json()

    assert api_client(reviewer).get("/api/shares/").json() == []
    assert api_client(reviewer).delete(f"/api/shares/{link['id']}/").status_code == 403
    assert ShareLink.objects.get().revoked_at is None


def test_another_team_cannot_create_list_or_revoke_our_links(creator, outsider, output):
    link = api_client(creator).post("/api/shares/", {"output": output.pk}, format="json").json()
    theirs = api_client(outsider)

    assert theirs.post("/api/shares/", {"output": output.pk}, format="json").status_code == 400
    assert theirs.get("/api/shares/").json() == []
    assert theirs.delete(f"/api/shares/{link['id']}/").status_code == 404
    assert ShareLink.objects.count() == 1 and ShareLink.objects.get().revoked_at is None
