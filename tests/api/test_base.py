"""The API's plumbing: authentication, membership, the schema and the docs page."""

import io

import pytest
from django.core.management import call_command
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api.conftest import ASSETS, GENERATIONS, QUOTE, User, api_client

# --- authentication and membership ----------------------------------------------------------------


def test_a_token_made_with_drf_create_token_authenticates(creator, image):
    call_command("drf_create_token", "creator", stdout=io.StringIO())
    token = Token.objects.get(user=creator)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.get(ASSETS)

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [image.pk]


def test_failed_tokens_are_rate_limited_per_address_even_for_a_right_token_then(creator, settings):
    from datetime import timedelta

    from axes.models import AccessAttempt

    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    good = Token.objects.create(user=creator).key
    client = APIClient(REMOTE_ADDR="10.3.3.3")
    for guess in ("a" * 40, "b" * 40, "c" * 40):
        client.credentials(HTTP_AUTHORIZATION=f"Token {guess}")
        assert client.get(ASSETS).status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {good}")
    locked = client.get(ASSETS)
    assert locked.status_code == 429
    assert locked.json() == {
        "errors": {
            "detail": ["Too many failed attempts with API tokens from this address. Try again in 15 minutes."]
        }
    }
    assert locked["Retry-After"] == "900"
    # The media views take tokens too: no confirmation there either.
    assert client.get("/m/assets/1/file").status_code == 404
    # Another address is not affected; the attempts are on the admin's lockout list.
    other = APIClient(REMOTE_ADDR="10.6.6.6")
    other.credentials(HTTP_AUTHORIZATION=f"Token {good}")
    assert other.get(ASSETS).status_code == 200
    attempt = AccessAttempt.objects.get()
    assert (attempt.ip_address, attempt.username, attempt.failures_since_start) == ("10.3.3.3", None, 3)


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", ASSETS), ("post", ASSETS), ("get", f"{ASSETS}1/"), ("post", QUOTE), ("get", GENERATIONS),
     ("post", GENERATIONS), ("get", f"{GENERATIONS}1/")],
)  # fmt: skip
def test_anonymous_requests_are_told_401_with_a_token_challenge(db, method, url):
    response = getattr(APIClient(), method)(url)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"errors": {"detail": ["Authentication credentials were not provided."]}}


def test_a_wrong_token_is_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.get(GENERATIONS)

    assert response.status_code == 401
    assert response.json() == {"errors": {"detail": ["Invalid token."]}}


def test_a_user_in_no_team_is_403(db):
    loner = User.objects.create_user(username="loner", password="pw-for-tests")

    response = api_client(loner).get(ASSETS)

    assert response.status_code == 403
    assert response.json() == {"errors": {"detail": ["You are not a member of any team."]}}


# --- schema and docs -----------------------------------------------------------------------------


def test_the_schema_lists_every_endpoint(api):
    response = APIClient().get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {
        "/api/assets/",
        "/api/assets/{id}/",
        "/api/quote/",
        "/api/generations/",
        "/api/generations/{id}/",
    } <= set(paths)
    assert set(paths["/api/generations/"]) == {"get", "post"}
    upload = paths["/api/assets/"]["post"]
    assert {"411", "413"} <= set(upload["responses"])
    assert [parameter["name"] for parameter in upload["parameters"]] == ["kind"]
    # The estimate is saved and reserved against the budgets; the actual charge comes from Runware.
    create = paths["/api/generations/"]["post"]["description"]
    assert "estimate is saved with the generation" in create and "`errors.budget`" in create
    assert "cost for each result" in create
    money_paths = {
        "/api/costs/summary/",
        "/api/costs/ledger/",
        "/api/costs/ledger.csv",
        "/api/costs/budgets/",
    }
    admin_paths = {"/api/deliveries/", "/api/deliveries/{id}/replay/", "/api/audit/", "/api/team/members/"}
    assert money_paths | admin_paths | {"/api/team/", "/api/team/switch/"} <= set(paths)


def test_the_api_schema_generates_valid_without_warnings():
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/", include("animate.api.urls"))])

    schema = generator.get_schema(request=None, public=True)

    assert not GENERATOR_STATS, (dict(GENERATOR_STATS._warn_cache), dict(GENERATOR_STATS._error_cache))
    validate_schema(schema)
    upload = schema["paths"]["/api/assets/"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    estimate = schema["components"]["schemas"]["Quote"]["properties"]["estimate"]
    assert estimate["type"] == "string"


def test_the_docs_page_serves_swagger_ui_from_our_own_static_files(db):
    response = APIClient().get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn.jsdelivr" not in page
    # No inline code under the CSP: the start-up script is a file, and it points at the schema.
    assert "<script>" not in page and "<style" not in page
    script = APIClient().get("/api/docs/?script=")
    assert script.status_code == 200 and "/api/schema/" in script.content.decode()


def test_the_x_team_header_chooses_which_of_the_callers_teams_a_request_works_in(
    creator, other_team, image, foreign_image
):
    from animate.models import Membership

    Membership.objects.create(user=creator, team=other_team, role=Membership.Role.MEMBER)
    client = api_client(creator)

    first = client.get(ASSETS).json()["results"]
    second = client.get(ASSETS, HTTP_X_TEAM=str(other_team.pk)).json()["results"]
    by_query = client.get(ASSETS, {"team": other_team.pk}).json()["results"]

    assert [item["id"] for item in first] == [image.pk]
    assert [item["id"] for item in second] == [item["id"] for item in by_query] == [foreign_image.pk]


@pytest.mark.parametrize("named", ["other", "not-a-number", str(2**63), "-1"])
def test_naming_a_team_the_caller_is_not_in_is_403(creator, other_team, image, named):
    team = str(other_team.pk) if named == "other" else named

    response = api_client(creator).get(ASSETS, HTTP_X_TEAM=team)

    assert response.status_code == 403
    assert "detail" in response.json()["errors"]


def test_a_url_of_the_api_that_does_not_exist_is_a_404_in_the_error_shape(creator):
    # Found by the schema fuzzing: an id that is not a number never reaches a view.
    response = api_client(creator).get(f"{ASSETS}not-a-number/")
    assert response.status_code == 404
    assert response.json() == {"errors": {"detail": ["No such URL in the API."]}}


def test_the_docs_page_has_the_site_header_and_a_way_back(creator):
    page = api_client(creator).get("/api/docs/").content.decode()

    assert '<header class="site-header">' in page
    assert '<a class="brand" href="/">' in page
    assert '<a href="/">← Back to Animate Studio</a>' in page
    assert '<a href="/api/docs/" aria-current="page">API docs</a>' in page
    assert "<title>API docs · Animate Studio</title>" in page
