"""Assets over the API: uploads validated by content, size limits before the body, listing, reading."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from animate.models import Asset
from tests.api.conftest import ASSETS, api_client, stored_files, upload_file

# --- assets --------------------------------------------------------------------------------------


def test_uploading_an_image_stores_an_asset_and_answers_201(api, team, png_path):
    response = upload_file(api, png_path)

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
    response = upload_file(api, mp4_path)

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


def test_unasked_a_file_whose_name_and_content_disagree_is_refused_naming_file(api, png_path, settings):
    upload = SimpleUploadedFile("character.mp4", png_path.read_bytes(), content_type="video/mp4")

    response = api.post(ASSETS, {"file": upload}, format="multipart")

    assert response.status_code == 400
    assert response.json() == {
        "errors": {
            "file": [
                "The file is named like a video (character.mp4) but holds an image; rename it, "
                "or say which it is with kind."
            ]
        }
    }
    assert not Asset.objects.exists()
    # Asked for as an image, the same bytes are one.
    upload.seek(0)
    assert api.post(ASSETS, {"file": upload, "kind": "image"}, format="multipart").status_code == 201


def test_a_file_whose_name_says_nothing_is_taken_for_what_its_content_is(api, png_path):
    upload = SimpleUploadedFile("upload", png_path.read_bytes(), content_type="application/octet-stream")

    response = api.post(ASSETS, {"file": upload}, format="multipart")

    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == "image"


def test_uploading_the_same_file_again_answers_200_with_the_existing_asset(api, png_path):
    first = upload_file(api, png_path)
    second = upload_file(api, png_path)

    assert (first.status_code, first.json()["reused"]) == (201, False)
    assert (second.status_code, second.json()["reused"]) == (200, True)
    assert second.json()["id"] == first.json()["id"]
    assert Asset.objects.count() == 1


@pytest.mark.timeout(120)
def test_concurrent_identical_uploads_store_one_asset_and_all_but_one_say_it_was_reused(
    live_server, member, png_path
):
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    token = Token.objects.create(user=member).key
    content = png_path.read_bytes()

    def upload(_: int) -> httpx.Response:
        return httpx.post(
            f"{live_server.url}{ASSETS}",
            files={"file": ("character.png", content, "image/png")},
            headers={"Authorization": f"Token {token}"},
            timeout=60,
        )

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(upload, range(20)))
    answers = sorted((r.status_code, r.json()["reused"]) for r in responses)
    assert answers == [(200, True)] * 19 + [(201, False)]
    assert Asset.objects.count() == 1 and {r.json()["id"] for r in responses} == {Asset.objects.get().pk}


def test_a_text_file_named_mp4_is_rejected_naming_file_and_nothing_is_stored(api, settings, tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 50)

    response = upload_file(api, fake)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["file"]
    assert "not a video" in response.json()["errors"]["file"][0]
    assert Asset.objects.count() == 0
    assert stored_files(Path(settings.MEDIA_ROOT)) == []


def test_a_file_that_is_neither_kind_lists_why_for_each(api, settings):
    upload = SimpleUploadedFile("blob", b"\x00\x01garbage" * 100, content_type="application/octet-stream")

    response = api.post(ASSETS, {"file": upload}, format="multipart")

    assert response.status_code == 400
    messages = response.json()["errors"]["file"]
    assert len(messages) == 2
    assert "not an image" in messages[0]
    assert "not a video" in messages[1]
    assert Asset.objects.count() == 0
    assert stored_files(Path(settings.MEDIA_ROOT)) == []


def test_an_empty_file_is_rejected_naming_file(api, settings):
    upload = SimpleUploadedFile("empty.mp4", b"", content_type="video/mp4")

    response = api.post(ASSETS, {"file": upload}, format="multipart")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["file"]
    assert Asset.objects.count() == 0
    assert stored_files(Path(settings.MEDIA_ROOT)) == []


def test_an_upload_without_a_file_names_file(api):
    response = api.post(ASSETS, {}, format="multipart")

    assert response.status_code == 400
    assert response.json() == {"errors": {"file": ["No file was submitted."]}}


def test_an_image_uploaded_as_a_video_is_rejected(api, png_path):
    response = upload_file(api, png_path, kind="video")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["file"]
    assert Asset.objects.count() == 0


def test_a_reviewer_may_upload(reviewer, png_path):
    response = upload_file(api_client(reviewer), png_path)

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
    assert stored_files(Path(settings.MEDIA_ROOT)) == []


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

    response = upload_file(api, clip)

    assert response.status_code == 413
    assert response.json()["errors"]["file"][0].startswith("File: the upload is 0.1 MB")
    assert Asset.objects.count() == 0
    assert stored_files(Path(settings.MEDIA_ROOT)) == []


def test_the_kind_in_the_query_string_applies_its_limit_and_is_the_uploads_kind(api, settings, png_path):
    settings.ANIMATE_MAX_IMAGE_BYTES = 1024
    with png_path.open("rb") as handle:
        allowed = api.post(ASSETS + "?kind=video", {"file": handle}, format="multipart")
    # Named a video, the PNG passes the size check but is judged as a video only.
    assert allowed.status_code == 400
    assert "not a video" in allowed.json()["errors"]["file"][0]

    big = png_path.parent / "big.png"
    big.write_bytes(png_path.read_bytes() + b"\0" * ALLOWANCE)
    refused = upload_file(api, big, kind="image")  # the kind in the form is read too late for this check
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


# --- the create page's uploads (session + CSRF, as the browser sends them) -----------------------------


def test_the_upload_limits_are_the_kinds_plus_a_multipart_allowance(settings):
    from animate.uploads import upload_refusal

    assert upload_refusal(str(20 * MIB + ALLOWANCE), "image") is None
    assert upload_refusal(str(20 * MIB + ALLOWANCE + 1), "image").status == 413
    assert upload_refusal(str(500 * MIB + ALLOWANCE), "video") is None
    assert upload_refusal(str(500 * MIB + ALLOWANCE + 1), "video").status == 413
    # Without a (known) kind the larger limit applies.
    assert upload_refusal(str(100 * MIB), None) is None
    assert upload_refusal(str(100 * MIB), "audio") is None
    assert upload_refusal(str(500 * MIB + ALLOWANCE + 1), None).status == 413
    settings.ANIMATE_MAX_IMAGE_BYTES = 1000
    settings.ANIMATE_MAX_VIDEO_BYTES = 2000
    assert upload_refusal(str(2000 + ALLOWANCE + 1), None).status == 413
    assert upload_refusal(str(1000 + ALLOWANCE + 1), "image").status == 413
    assert upload_refusal(str(1000 + ALLOWANCE + 1), "video") is None
    assert upload_refusal(None, "image").status == 411
    assert upload_refusal("", "image").status == 411
    for bad in ("abc", "-5", "1e9", "12 34", "١٢"):
        assert upload_refusal(bad, "image").status == 400, bad


def test_a_browser_upload_needs_the_csrf_token_which_is_checked_after_the_size(
    creator, monkeypatch, tmp_path
):
    from django.http.multipartparser import MultiPartParser
    from django.test import Client

    from animate.samples import make_character_png

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(creator)
    url = ASSETS + "?kind=image"
    with monkeypatch.context() as patch:
        # The CSRF check would read request.POST (parsing the body) if it ran first.
        patch.setattr(MultiPartParser, "parse", lambda self: pytest.fail("the body was parsed"))
        huge = browser.post(
            url, {"kind": "image", "file": SimpleUploadedFile("a.png", b"x")}, CONTENT_LENGTH=str(900 * MIB)
        )
    assert huge.status_code == 413
    png = make_character_png(tmp_path / "hero.png", width=64, height=96)
    forged = browser.post(url, {"kind": "image", "file": png.open("rb")})
    assert forged.status_code == 403
    assert "CSRF" in forged.json()["errors"]["detail"][0]
    assert Asset.objects.count() == 0
    browser.get("/")  # the create page sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    good = browser.post(url, {"kind": "image", "file": png.open("rb")}, HTTP_X_CSRFTOKEN=token)
    assert good.status_code == 201, good.content
    assert Asset.objects.count() == 1


def test_a_video_upload_answers_duration_fps_windows_and_warnings(api, tmp_path):
    from animate.samples import make_driving_video

    clip = make_driving_video(tmp_path / "dance.mp4", seconds=6.0, fps=16, width=160, height=240)

    body = upload_file(api, clip, kind="video").json()

    assert (body["kind"], body["frames"], body["windows"]) == ("video", 96, 2)
    assert body["fps"] == pytest.approx(16) and body["duration"] == pytest.approx(6.0, abs=0.1)
    assert body["codec"] == "h264" and body["has_audio"] is False
    assert body["poster"].endswith(f"/m/assets/{body['id']}/poster")
    assert any("Small picture" in warning for warning in body["warnings"])
