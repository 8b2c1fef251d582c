"""The REST API at /api/: authentication, team scoping, uploads, quotes, generations and the schema."""

import io
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from animate.models import Asset, Generation, Membership, Output, Team
from animate.samples import make_character_png, make_driving_video
from animate.services.media import asset_create

User = get_user_model()

ASSETS = "/api/assets/"
QUOTE = "/api/quote/"
GENERATIONS = "/api/generations/"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def team(db) -> Team:
    return Team.objects.create(name="Studio", slug="studio")


@pytest.fixture
def other_team(db) -> Team:
    return Team.objects.create(name="Elsewhere", slug="elsewhere")


def _member(team: Team, username: str, role: str) -> object:
    user = User.objects.create_user(username=username, password="pw-for-tests")
    Membership.objects.create(user=user, team=team, role=role)
    return user


@pytest.fixture
def owner(team: Team) -> object:
    return _member(team, "owner", Membership.Role.ADMIN)


@pytest.fixture
def creator(team: Team) -> object:
    return _member(team, "creator", Membership.Role.MEMBER)


@pytest.fixture
def reviewer(team: Team) -> object:
    return _member(team, "reviewer", Membership.Role.REVIEWER)


@pytest.fixture
def outsider(other_team: Team) -> object:
    return _member(other_team, "outsider", Membership.Role.ADMIN)


def _client(user: object | None = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def api(creator: object) -> APIClient:
    return _client(creator)


@pytest.fixture
def png_path(tmp_path: Path) -> Path:
    return make_character_png(tmp_path / "character.png", width=256, height=384)


@pytest.fixture
def mp4_path(tmp_path: Path) -> Path:
    return make_driving_video(tmp_path / "driving.mp4", seconds=3.0, fps=16)


def _asset(team: Team, user: object, kind: str, source: Path) -> Asset:
    with source.open("rb") as handle:
        return asset_create(team=team, user=user, kind=kind, uploaded_file=File(handle, name=source.name))


@pytest.fixture
def image(team: Team, creator: object, png_path: Path) -> Asset:
    return _asset(team, creator, "image", png_path)


@pytest.fixture
def video(team: Team, creator: object, mp4_path: Path) -> Asset:
    return _asset(team, creator, "video", mp4_path)


@pytest.fixture
def foreign_image(other_team: Team, outsider: object, tmp_path: Path) -> Asset:
    source = make_character_png(tmp_path / "theirs.png", width=256, height=384, hue=90)
    return _asset(other_team, outsider, "image", source)


def _upload(client: APIClient, source: Path, **extra: object):
    with source.open("rb") as handle:
        return client.post(ASSETS, {"file": handle, **extra}, format="multipart")


def _stored_files(root: Path) -> list[Path]:
    return [item for item in root.rglob("*") if item.is_file()] if root.exists() else []


def _generation(team: Team, user: object, image: Asset, video: Asset, **fields: object) -> Generation:
    return Generation.objects.create(
        team=team, created_by=user, image=image, video=video, estimated_cost=Decimal("0.0300"), **fields
    )


def _output(generation: Generation, **fields: object) -> Output:
    video_uuid = uuid.uuid4()
    defaults = {
        "team_id": generation.team_id,
        "generation": generation,
        "video_uuid": video_uuid,
        "file": f"teams/{generation.team_id}/outputs/{generation.pk}/{video_uuid}.mp4",
        "sha256": "0" * 64,
        "size": 1000,
        "content_type": "video/mp4",
        "width": 480,
        "height": 704,
        "fps": 16.0,
        "frames": 48,
        "duration": 3.0,
        "codec": "h264",
        "container": "mp4",
        "seed": 42,
        "cost": Decimal("0.0300"),
    }
    return Output.objects.create(**{**defaults, **fields})


# --- authentication and membership ----------------------------------------------------------------


def test_a_token_made_with_drf_create_token_authenticates(creator, image):
    call_command("drf_create_token", "creator", stdout=io.StringIO())
    token = Token.objects.get(user=creator)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.get(ASSETS)

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [image.pk]


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

    response = _client(loner).get(ASSETS)

    assert response.status_code == 403
    assert response.json() == {"errors": {"detail": ["You are not a member of any team."]}}


# --- assets --------------------------------------------------------------------------------------


def test_uploading_an_image_stores_an_asset_and_answers_201(api, team, png_path):
    response = _upload(api, png_path)

    assert response.status_code == 201, response.json()
    body = response.json()
    asset = Asset.objects.get(pk=body["id"])
    assert asset.team == team
    assert asset.kind == "image"
    assert body["kind"] == "image"
    assert body["url"] == f"http://testserver/m/assets/{asset.pk}/file"
    assert body["poster"] == f"http://testserver/m/assets/{asset.pk}/poster"
    assert (body["width"], body["height"]) == (256, 384)
    assert body["fps"] is None
    assert body["windows"] is None
    assert body["sha256"] == asset.sha256
    assert body["name"] == "character.png"
    assert body["created_at"]


def test_uploading_a_video_without_kind_is_recognised_as_a_video(api, mp4_path):
    response = _upload(api, mp4_path)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "video"
    assert body["fps"] == 16.0
    assert body["frames"] == 48
    assert body["duration"] == pytest.approx(3.0, abs=0.01)
    assert body["codec"] == "h264"
    assert body["has_audio"] is False
    assert body["windows"] == 1
    assert isinstance(body["warnings"], list)


def test_the_content_decides_the_kind_not_the_declared_type(api, png_path):
    upload = SimpleUploadedFile("character.mp4", png_path.read_bytes(), content_type="video/mp4")

    response = api.post(ASSETS, {"file": upload}, format="multipart")

    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == "image"


def test_uploading_the_same_file_again_answers_200_with_the_existing_asset(api, png_path):
    first = _upload(api, png_path)
    second = _upload(api, png_path)

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert Asset.objects.count() == 1


def test_a_text_file_named_mp4_is_rejected_naming_file_and_nothing_is_stored(api, settings, tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 50)

    response = _upload(api, fake)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["file"]
    assert "not a video" in response.json()["errors"]["file"][0]
    assert Asset.objects.count() == 0
    assert _stored_files(Path(settings.MEDIA_ROOT)) == []


def test_a_file_that_is_neither_kind_lists_why_for_each(api, settings):
    upload = SimpleUploadedFile("blob", b"\x00\x01garbage" * 100, content_type="application/octet-stream")

    response = api.post(ASSETS, {"file": upload}, format="multipart")

    assert response.status_code == 400
    messages = response.json()["errors"]["file"]
    assert len(messages) == 2
    assert "not an image" in messages[0]
    assert "not a video" in messages[1]
    assert Asset.objects.count() == 0
    assert _stored_files(Path(settings.MEDIA_ROOT)) == []


def test_an_empty_file_is_rejected_naming_file(api, settings):
    upload = SimpleUploadedFile("empty.mp4", b"", content_type="video/mp4")

    response = api.post(ASSETS, {"file": upload}, format="multipart")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["file"]
    assert Asset.objects.count() == 0
    assert _stored_files(Path(settings.MEDIA_ROOT)) == []


def test_an_upload_without_a_file_names_file(api):
    response = api.post(ASSETS, {}, format="multipart")

    assert response.status_code == 400
    assert response.json() == {"errors": {"file": ["No file was submitted."]}}


def test_an_image_uploaded_as_a_video_is_rejected(api, png_path):
    response = _upload(api, png_path, kind="video")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["file"]
    assert Asset.objects.count() == 0


def test_a_reviewer_may_upload(reviewer, png_path):
    response = _upload(_client(reviewer), png_path)

    assert response.status_code == 201


MIB = 1024 * 1024
ALLOWANCE = 64 * 1024


@pytest.fixture
def body_never_parsed(monkeypatch):
    """Fails the test if anything parses a multipart body (DRF's parser uses Django's)."""
    from django.http.multipartparser import MultiPartParser

    def refuse(self):
        raise AssertionError("the multipart body was parsed")

    monkeypatch.setattr(MultiPartParser, "parse", refuse)


@pytest.mark.parametrize(
    ("query", "length", "message"),
    [
        ("?kind=image", 21 * MIB, "Character image: the upload is 21.0 MB; the most allowed is 20.0 MB."),
        ("?kind=video", 600 * MIB, "Driving video: the upload is 600.0 MB; the most allowed is 500.0 MB."),
        ("", 600 * MIB, "File: the upload is 600.0 MB; the most allowed is 500.0 MB."),
    ],
)  # fmt: skip
def test_an_upload_longer_than_allowed_is_413_before_the_body_is_read(
    creator, settings, body_never_parsed, query, length, message
):
    # Session authentication with CSRF enforced, as a browser would: its check reads the body too.
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(creator)
    upload = SimpleUploadedFile("big.bin", b"x" * 1000)

    response = client.post(ASSETS + query, {"file": upload}, format="multipart", CONTENT_LENGTH=str(length))

    assert response.status_code == 413
    assert response.json() == {"errors": {"file": [message]}}
    assert Asset.objects.count() == 0
    assert _stored_files(Path(settings.MEDIA_ROOT)) == []


@pytest.mark.parametrize(("length", "status"), [("", 411), ("big", 400)])
def test_an_upload_without_a_usable_content_length_is_refused_naming_file(
    creator, settings, body_never_parsed, length, status
):
    call_command("drf_create_token", "creator", stdout=io.StringIO())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=creator).key}")
    upload = SimpleUploadedFile("hero.png", b"x" * 1000)

    response = client.post(ASSETS, {"file": upload}, format="multipart", CONTENT_LENGTH=length)

    assert response.status_code == status
    assert list(response.json()["errors"]) == ["file"]
    assert "Content-Length" in response.json()["errors"]["file"][0]
    assert Asset.objects.count() == 0


def test_a_real_file_over_a_tightened_limit_is_413_and_nothing_is_stored(api, settings, tmp_path):
    settings.ANIMATE_MAX_VIDEO_BYTES = 2048
    settings.ANIMATE_MAX_IMAGE_BYTES = 1024
    clip = tmp_path / "long.mp4"
    clip.write_bytes(b"\0" * (ALLOWANCE + 4096))

    response = _upload(api, clip)

    assert response.status_code == 413
    assert response.json()["errors"]["file"][0].startswith("File: the upload is 0.1 MB")
    assert Asset.objects.count() == 0
    assert _stored_files(Path(settings.MEDIA_ROOT)) == []


def test_the_kind_in_the_query_string_applies_its_limit_and_is_the_uploads_kind(api, settings, png_path):
    settings.ANIMATE_MAX_IMAGE_BYTES = 1024
    with png_path.open("rb") as handle:
        allowed = api.post(ASSETS + "?kind=video", {"file": handle}, format="multipart")
    # Named a video, the PNG passes the size check but is judged as a video only.
    assert allowed.status_code == 400
    assert "not a video" in allowed.json()["errors"]["file"][0]

    big = png_path.parent / "big.png"
    big.write_bytes(png_path.read_bytes() + b"\0" * ALLOWANCE)
    refused = _upload(api, big, kind="image")  # the kind in the form is read too late for this check
    assert refused.status_code == 400
    with big.open("rb") as handle:
        early = api.post(ASSETS + "?kind=image", {"file": handle}, format="multipart")
    assert early.status_code == 413


def test_an_unknown_kind_in_the_query_string_is_400_naming_kind(api, png_path):
    with png_path.open("rb") as handle:
        response = api.post(ASSETS + "?kind=audio", {"file": handle}, format="multipart")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["kind"]
    assert Asset.objects.count() == 0


def test_the_asset_list_holds_only_the_teams_assets_newest_first(api, image, video, foreign_image):
    response = api.get(ASSETS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [video.pk, image.pk]


def test_the_asset_list_filters_by_kind_and_pages(api, image, video):
    videos = api.get(ASSETS, {"kind": "video"}).json()
    first_page = api.get(ASSETS, {"page_size": 1}).json()

    assert [item["id"] for item in videos["results"]] == [video.pk]
    assert first_page["count"] == 2
    assert len(first_page["results"]) == 1
    assert first_page["next"].startswith("http://testserver/api/assets/?page=2")


def test_an_asset_is_readable_by_id(api, video):
    response = api.get(f"{ASSETS}{video.pk}/")

    assert response.status_code == 200
    assert response.json()["id"] == video.pk
    assert response.json()["url"] == f"http://testserver/m/assets/{video.pk}/file"


def test_another_teams_asset_is_404_like_a_missing_one(api, foreign_image):
    response = api.get(f"{ASSETS}{foreign_image.pk}/")
    missing = api.get(f"{ASSETS}{foreign_image.pk + 1000}/")

    assert response.status_code == 404
    assert response.json() == missing.json() == {"errors": {"detail": ["No such asset in your team."]}}


# --- quotes --------------------------------------------------------------------------------------


def test_a_valid_quote_prices_the_video_as_a_string(api, image, video):
    response = api.post(
        QUOTE, {"image": image.pk, "video": video.pk, "parameters": {"resolution": "480p"}}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True
    assert body["problems"] == {}
    assert body["estimate"] == "0.0300"
    assert body["currency"] == "USD"
    assert body["tier"] == "480p"
    assert body["billable_seconds"] == 3
    assert body["number_results"] == 1
    assert set(body["warnings"]) == {"image", "video"}


def test_a_quote_multiplies_by_the_number_of_results(api, video):
    response = api.post(
        QUOTE, {"video": video.pk, "parameters": {"resolution": "480p", "numberResults": 2}}, format="json"
    )

    assert response.json()["estimate"] == "0.0600"
    assert response.json()["number_results"] == 2


def test_an_out_of_range_parameter_is_named_by_its_path(api, image, video):
    response = api.post(
        QUOTE, {"image": image.pk, "video": video.pk, "parameters": {"fps": 99}}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False
    assert list(body["problems"]) == ["parameters.fps"]
    assert body["estimate"] is None


def test_a_quote_accepts_parameters_nested_as_in_a_runware_task(api, image, video):
    parameters = {
        "resolution": "480p",
        "advancedFeatures": {"wanAnimate": {"mode": "replace", "retargetPose": True}},
        "acceleratorOptions": {"teaCache": True, "teaCacheDistance": 0.3},
    }

    response = api.post(
        QUOTE, {"image": image.pk, "video": video.pk, "parameters": parameters}, format="json"
    )

    body = response.json()
    assert body["valid"] is False
    assert list(body["problems"]) == ["parameters.advancedFeatures.wanAnimate.retargetPose"]
    assert any("Replace mode" in warning for warning in body["warnings"]["video"])


def test_an_unknown_nested_parameter_is_named_not_dropped(api, video):
    parameters = {"advancedFeatures": {"wanAnimate": {"bogus": 1}}}

    response = api.post(QUOTE, {"video": video.pk, "parameters": parameters}, format="json")

    assert response.json()["valid"] is False
    assert list(response.json()["problems"]) == ["parameters.advancedFeatures.wanAnimate.bogus"]


def test_a_quote_without_a_video_says_one_is_needed(api):
    response = api.post(QUOTE, {"parameters": {}}, format="json")

    assert response.json()["valid"] is False
    assert list(response.json()["problems"]) == ["video"]
    assert response.json()["estimate"] is None


def test_a_quote_for_another_teams_image_names_image(api, video, foreign_image):
    response = api.post(QUOTE, {"image": foreign_image.pk, "video": video.pk}, format="json")

    assert response.json()["valid"] is False
    assert list(response.json()["problems"]) == ["image"]


def test_a_malformed_quote_body_is_400_naming_the_field(api, video):
    response = api.post(QUOTE, {"video": "two", "parameters": ["fps"]}, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"video", "parameters"}


def test_a_body_that_is_not_json_gets_the_same_error_shape(api):
    response = api.post(QUOTE, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["detail"]
    assert response.json()["errors"]["detail"][0].startswith("JSON parse error")


def test_a_reviewer_may_ask_for_a_quote(reviewer, video):
    response = _client(reviewer).post(QUOTE, {"video": video.pk}, format="json")

    assert response.status_code == 200


# --- creating generations ------------------------------------------------------------------------


def test_creating_a_generation_queues_it_with_its_estimate(api, creator, team, image, video):
    response = api.post(
        GENERATIONS,
        {"image": image.pk, "video": video.pk, "parameters": {"resolution": "480p", "seed": 7}},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    generation = Generation.objects.get(pk=body["id"])
    assert generation.team == team
    assert generation.created_by == creator
    assert generation.status == Generation.Status.QUEUED
    assert body["status"] == "queued"
    assert body["estimated_cost"] == "0.0300"
    assert body["actual_cost"] is None
    assert body["currency"] == "USD"
    assert body["parameters"] == generation.parameters
    assert body["parameters"]["resolution"] == "480p"
    assert body["parameters"]["seed"] == 7
    assert (body["image"], body["video"], body["parent"]) == (image.pk, video.pk, None)
    assert body["created_by"] == "creator"
    assert body["error"] is None
    assert body["outputs"] == []
    assert body["timestamps"]["created"]


def test_nested_parameters_are_stored_flat(api, image, video):
    parameters = {"resolution": "480p", "advancedFeatures": {"wanAnimate": {"mode": "replace"}}}

    response = api.post(
        GENERATIONS, {"image": image.pk, "video": video.pk, "parameters": parameters}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert Generation.objects.get().parameters["mode"] == "replace"


def test_a_rerun_keeps_its_parent(api, creator, team, image, video):
    parent = _generation(team, creator, image, video)

    response = api.post(
        GENERATIONS,
        {"image": image.pk, "video": video.pk, "parameters": {"resolution": "480p"}, "parent": parent.pk},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["parent"] == parent.pk


SERVER_SET_KEYS = [
    "taskType", "taskUUID", "model", "deliveryMethod", "outputType", "includeCost", "webhookURL",
    "uploadEndpoint", "inputs", "referenceImages", "referenceVideos",
]  # fmt: skip


@pytest.mark.parametrize("key", SERVER_SET_KEYS)
def test_a_key_the_server_sets_is_refused_by_name_not_dropped(api, image, video, key):
    parameters = {"resolution": "480p", key: "https://attacker.example/hook"}

    response = api.post(
        GENERATIONS, {"image": image.pk, "video": video.pk, "parameters": parameters}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"errors": {f"parameters.{key}": ["set by the server; leave it out"]}}
    assert Generation.objects.count() == 0


def test_every_server_set_key_is_named_at_once_and_the_quote_refuses_them_too(api, image, video):
    from animate.services.generations import SERVER_KEYS

    assert set(SERVER_SET_KEYS) == set(SERVER_KEYS)
    parameters = {"webhookURL": "https://x.example/", "fps": 16, "includeCost": False, "model": "other"}

    created = api.post(
        GENERATIONS, {"image": image.pk, "video": video.pk, "parameters": parameters}, format="json"
    )
    quoted = api.post(QUOTE, {"video": video.pk, "parameters": parameters}, format="json")

    expected = {f"parameters.{key}" for key in ("webhookURL", "includeCost", "model")}
    assert created.status_code == quoted.status_code == 400
    assert set(created.json()["errors"]) == set(quoted.json()["errors"]) == expected
    assert Generation.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"image", "video"}),
        ({"image": "x", "video": None}, {"image", "video"}),
        ({"parameters": "fps=16"}, {"image", "video", "parameters"}),
    ],
)
def test_a_malformed_generation_body_names_each_field(api, body, fields):
    response = api.post(GENERATIONS, body, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == fields
    assert Generation.objects.count() == 0


def test_a_video_given_as_the_image_is_refused_naming_image(api, video):
    response = api.post(
        GENERATIONS,
        {"image": video.pk, "video": video.pk, "parameters": {"resolution": "480p"}},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"errors": {"image": ["Choose a character image uploaded to your team."]}}
    assert Generation.objects.count() == 0


def test_another_teams_image_is_refused_naming_image(api, video, foreign_image):
    response = api.post(GENERATIONS, {"image": foreign_image.pk, "video": video.pk}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["image"]
    assert Generation.objects.count() == 0


def test_a_missing_video_is_refused_naming_video(api, image):
    response = api.post(GENERATIONS, {"image": image.pk, "video": 987654}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["video"]


def test_out_of_range_parameters_are_refused_each_named_by_path(api, image, video):
    parameters = {"fps": 99, "acceleratorOptions": {"teaCacheDistance": 7}}

    response = api.post(
        GENERATIONS, {"image": image.pk, "video": video.pk, "parameters": parameters}, format="json"
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"parameters.fps", "parameters.acceleratorOptions.teaCacheDistance"}
    assert all(isinstance(messages, list) and messages for messages in errors.values())
    assert Generation.objects.count() == 0


def test_a_forbidden_combination_is_refused(api, image, video):
    parameters = {"resolution": "480p", "width": 480, "height": 480}

    response = api.post(
        GENERATIONS, {"image": image.pk, "video": video.pk, "parameters": parameters}, format="json"
    )

    assert response.status_code == 400
    assert all(key.startswith("parameters.") for key in response.json()["errors"])
    assert Generation.objects.count() == 0


def test_another_teams_parent_is_refused_naming_parent(
    api, image, video, other_team, outsider, foreign_image
):
    theirs = _generation(other_team, outsider, foreign_image, foreign_image)

    response = api.post(
        GENERATIONS, {"image": image.pk, "video": video.pk, "parent": theirs.pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"errors": {"parent": ["No such generation in your team."]}}
    assert Generation.objects.filter(team=image.team).count() == 0


def test_a_reviewer_cannot_create_a_generation(reviewer, image, video):
    response = _client(reviewer).post(
        GENERATIONS,
        {"image": image.pk, "video": video.pk, "parameters": {"resolution": "480p"}},
        format="json",
    )

    assert response.status_code == 403
    assert list(response.json()["errors"]) == ["detail"]
    assert "Reviewers cannot submit" in response.json()["errors"]["detail"][0]
    assert Generation.objects.count() == 0


def test_a_reviewer_can_still_read_generations(reviewer, creator, team, image, video):
    generation = _generation(team, creator, image, video)

    response = _client(reviewer).get(f"{GENERATIONS}{generation.pk}/")

    assert response.status_code == 200


# --- reading generations -------------------------------------------------------------------------


def test_a_generation_shows_its_outputs_with_absolute_urls_and_string_money(api, creator, team, image, video):
    generation = _generation(
        team, creator, image, video, status=Generation.Status.DONE, actual_cost=Decimal("0.03")
    )
    output = _output(generation, poster="teams/1/posters/p.jpg")

    response = api.get(f"{GENERATIONS}{generation.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "done"
    assert body["actual_cost"] == "0.0300"
    assert body["outputs"] == [
        {
            "id": output.pk,
            "video_uuid": str(output.video_uuid),
            "seed": 42,
            "nsfw": False,
            "cost": "0.0300",
            "width": 480,
            "height": 704,
            "fps": 16.0,
            "frames": 48,
            "duration": 3.0,
            "codec": "h264",
            "container": "mp4",
            "url": f"http://testserver/m/outputs/{output.pk}/file",
            "poster": f"http://testserver/m/outputs/{output.pk}/poster",
            "created_at": body["outputs"][0]["created_at"],
        }
    ]


def test_a_failed_generation_shows_its_error(api, creator, team, image, video):
    generation = _generation(
        team, creator, image, video, status=Generation.Status.FAILED, error_code="invalidParameter",
        error_message="fps is out of range",
    )  # fmt: skip

    body = api.get(f"{GENERATIONS}{generation.pk}/").json()

    assert body["error"] == {"code": "invalidParameter", "message": "fps is out of range"}


def test_another_teams_generation_is_404(api, other_team, outsider, foreign_image):
    theirs = _generation(other_team, outsider, foreign_image, foreign_image)

    response = api.get(f"{GENERATIONS}{theirs.pk}/")

    assert response.status_code == 404
    assert response.json() == {"errors": {"detail": ["No such generation in your team."]}}


def test_the_list_is_the_teams_generations_newest_first(
    api, creator, team, image, video, other_team, outsider, foreign_image
):
    older = _generation(team, creator, image, video)
    newer = _generation(team, creator, image, video)
    _generation(other_team, outsider, foreign_image, foreign_image)

    body = api.get(GENERATIONS).json()

    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [newer.pk, older.pk]


def test_the_list_filters_by_status_and_by_mine(api, creator, owner, team, image, video):
    mine_done = _generation(team, creator, image, video, status=Generation.Status.DONE)
    mine_queued = _generation(team, creator, image, video)
    theirs_done = _generation(team, owner, image, video, status=Generation.Status.DONE)

    done = api.get(GENERATIONS, {"status": "done"}).json()
    mine = api.get(GENERATIONS, {"mine": "1"}).json()
    mine_and_done = api.get(GENERATIONS, {"mine": "1", "status": "done"}).json()

    assert {item["id"] for item in done["results"]} == {mine_done.pk, theirs_done.pk}
    assert {item["id"] for item in mine["results"]} == {mine_done.pk, mine_queued.pk}
    assert [item["id"] for item in mine_and_done["results"]] == [mine_done.pk]


def test_an_unknown_status_filter_is_400_naming_status(api):
    response = api.get(GENERATIONS, {"status": "exploded"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["status"]


def test_the_list_costs_the_same_queries_for_1_or_10_generations(
    api, creator, team, image, video, django_assert_max_num_queries
):
    def make(count: int) -> None:
        for _ in range(count):
            generation = _generation(team, creator, image, video, status=Generation.Status.DONE)
            _output(generation)
            _output(generation)

    make(1)
    with CaptureQueriesContext(connection) as one:
        assert len(api.get(GENERATIONS).json()["results"]) == 1
    # session, user, membership, count, generations (+ creators), outputs
    assert len(one.captured_queries) <= 6
    make(9)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(api.get(GENERATIONS).json()["results"]) == 10


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
    # No money is reserved at submit: the estimate is saved and the actual charge comes from Runware.
    create = paths["/api/generations/"]["post"]["description"]
    assert "reserved" not in response.content.decode()
    assert "estimate is saved with the generation" in create
    assert "cost for each result" in create


def test_the_api_schema_generates_valid_without_warnings():
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/", include("animate.api_urls"))])

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
    assert "/api/schema/" in page
