"""The create page and its JSON endpoints: login, upload, quote, submit, re-run."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from animate.models import Asset, Generation
from animate.samples import make_character_png, make_driving_video
from tests.views.conftest import generation_for, post_json

# --- login ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/"),
        ("get", "/generations/"),
        ("get", "/generations/1/"),
        ("post", "/assets/upload/"),
        ("post", "/quote/"),
        ("post", "/generations/new/"),
    ],
)
def test_every_page_and_endpoint_needs_a_login(client, db, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_login_page_has_labelled_username_and_password(client, db):
    html = client.get("/accounts/login/").content.decode()
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert 'type="submit"' in html


def test_a_user_without_a_team_is_told_so(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("loner", password="x"))
    response = client.get("/")
    assert response.status_code == 403
    assert b"not in a team" in response.content


# --- create page ----------------------------------------------------------------------------------------


def test_the_create_page_has_labelled_upload_inputs_and_the_parameter_form(member_client):
    response = member_client.get(reverse("create"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<label class="dropzone-label" for="file-image">Character image</label>' in html
    assert 'accept="image/png,image/jpeg,image/webp"' in html
    assert '<label class="dropzone-label" for="file-video">Driving video</label>' in html
    assert 'accept="video/mp4,video/webm,video/quicktime"' in html
    assert "<details" in html and 'data-key="cacheEndStep"' in html
    assert 'id="submit" disabled' in html
    assert "reviewer-note" not in html


def test_the_create_page_shows_user_team_role_and_a_post_logout(member_client, member):
    html = member_client.get(reverse("create")).content.decode()
    assert "mia" in html and "Studio" in html and "Member" in html
    assert 'method="post" action="/accounts/logout/"' in html
    assert "data-conn" in html
    assert 'href="/api/docs/"' in html


def test_the_create_page_says_the_estimate_is_held_until_the_actual_charge(member_client):
    html = member_client.get(reverse("create")).content.decode()
    assert (
        "This estimate is saved with the generation and held against the team's budget until the actual"
        in html
    )
    assert 'id="budget-line"' in html and 'id="err-budget"' in html


def test_a_reviewer_sees_the_create_page_with_an_explanation(reviewer_client):
    response = reviewer_client.get(reverse("create"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="reviewer-note"' in html
    assert 'data-can-spend="false"' in html


def test_the_create_page_warns_when_runware_cannot_reach_the_webhook(member_client, settings):
    settings.RUNWARE_SANDBOX = False
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    html = member_client.get(reverse("create")).content.decode()
    assert "Runware cannot reach this server's webhook URL" in html


# --- upload ---------------------------------------------------------------------------------------------


def test_uploading_an_image_answers_its_metadata(member_client, team, tmp_path):
    png = make_character_png(tmp_path / "hero.png", width=300, height=450)
    upload = SimpleUploadedFile("hero.png", png.read_bytes(), content_type="image/png")
    response = member_client.post(reverse("asset-upload"), {"kind": "image", "file": upload})
    assert response.status_code == 201
    body = response.json()
    asset = Asset.objects.get()
    assert asset.team == team and asset.kind == "image"
    assert body["id"] == asset.pk
    assert body["url"] == reverse("media-asset", kwargs={"pk": asset.pk})
    assert (body["width"], body["height"], body["windows"]) == (300, 450, None)


def test_uploading_a_video_answers_duration_fps_windows_and_warnings(member_client, tmp_path):
    clip = make_driving_video(tmp_path / "dance.mp4", seconds=6.0, fps=16, width=160, height=240)
    upload = SimpleUploadedFile("dance.mp4", clip.read_bytes(), content_type="video/mp4")
    response = member_client.post(reverse("asset-upload"), {"kind": "video", "file": upload})
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "video"
    assert body["frames"] == 96
    assert body["fps"] == pytest.approx(16)
    assert body["duration"] == pytest.approx(6.0, abs=0.1)
    assert body["windows"] == 2
    assert body["codec"] == "h264" and body["has_audio"] is False
    assert body["poster"] == reverse("media-asset-poster", kwargs={"pk": body["id"]})
    assert any("Small picture" in warning for warning in body["warnings"])


def test_a_rejected_upload_names_the_field_and_stores_nothing(member_client, settings):
    upload = SimpleUploadedFile("dance.mp4", b"this is not a video", content_type="video/mp4")
    response = member_client.post(reverse("asset-upload"), {"kind": "video", "file": upload})
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "video"
    assert body["error"].startswith("Driving video")
    assert Asset.objects.count() == 0
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))


def test_an_upload_without_a_file_is_refused(member_client):
    response = member_client.post(reverse("asset-upload"), {"kind": "image"})
    assert response.status_code == 400
    assert response.json() == {"field": "image", "error": "Character image: choose a file to upload."}


MIB = 1024 * 1024
ALLOWANCE = 64 * 1024


@pytest.fixture
def body_never_parsed(monkeypatch):
    """Fails the test if anything parses a multipart body (request.POST / request.FILES)."""
    from django.http.multipartparser import MultiPartParser

    def refuse(self):
        raise AssertionError("the multipart body was parsed")

    monkeypatch.setattr(MultiPartParser, "parse", refuse)


def nothing_stored(settings) -> bool:
    media = Path(settings.MEDIA_ROOT)
    files = [path for path in media.rglob("*") if path.is_file()] if media.exists() else []
    return Asset.objects.count() == 0 and files == []


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


@pytest.mark.parametrize(
    ("kind", "length", "message"),
    [
        ("image", 21 * MIB, "Character image: the upload is 21.0 MB; the most allowed is 20.0 MB."),
        ("video", 600 * MIB, "Driving video: the upload is 600.0 MB; the most allowed is 500.0 MB."),
        (None, 600 * MIB, "File: the upload is 600.0 MB; the most allowed is 500.0 MB."),
    ],
)  # fmt: skip
def test_an_upload_longer_than_allowed_is_413_before_the_body_is_read(
    member_client, settings, body_never_parsed, kind, length, message
):
    url = reverse("asset-upload") + (f"?kind={kind}" if kind else "")
    upload = SimpleUploadedFile("big.bin", b"x" * 1000)
    response = member_client.post(url, {"kind": kind or "video", "file": upload}, CONTENT_LENGTH=str(length))
    assert response.status_code == 413
    assert response.json() == {"field": "file", "error": message}
    assert nothing_stored(settings)


@pytest.mark.parametrize(("length", "status"), [("", 411), ("lots", 400), ("-1", 400)])
def test_an_upload_without_a_usable_content_length_is_refused(
    member_client, settings, body_never_parsed, length, status
):
    upload = SimpleUploadedFile("hero.png", b"x" * 1000)
    url = reverse("asset-upload") + "?kind=image"
    response = member_client.post(url, {"kind": "image", "file": upload}, CONTENT_LENGTH=length)
    assert response.status_code == status
    body = response.json()
    assert body["field"] == "file" and body["error"].startswith("Character image: ")
    assert "Content-Length" in body["error"]
    assert nothing_stored(settings)


def test_a_real_file_over_a_tightened_limit_is_refused_and_nothing_is_stored(member_client, settings):
    settings.ANIMATE_MAX_IMAGE_BYTES = 1024
    upload = SimpleUploadedFile("hero.png", b"\x89PNG" + b"\0" * (ALLOWANCE + 2048), content_type="image/png")
    response = member_client.post(reverse("asset-upload") + "?kind=image", {"kind": "image", "file": upload})
    assert response.status_code == 413
    assert response.json()["error"].endswith("the most allowed is 0.0 MB.")
    assert nothing_stored(settings)


def test_the_size_check_comes_before_csrf_which_is_still_enforced(member, monkeypatch, tmp_path):
    from django.http.multipartparser import MultiPartParser
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member)
    upload = SimpleUploadedFile("hero.png", b"x" * 10)
    url = reverse("asset-upload") + "?kind=image"
    with monkeypatch.context() as patch:
        # The CSRF middleware would read request.POST (parsing the body) if it ran first.
        patch.setattr(MultiPartParser, "parse", lambda self: pytest.fail("the body was parsed"))
        huge = browser.post(url, {"kind": "image", "file": upload}, CONTENT_LENGTH=str(900 * MIB))
    assert huge.status_code == 413
    png = make_character_png(tmp_path / "hero.png", width=64, height=96)
    forged = browser.post(url, {"kind": "image", "file": png.open("rb")})
    assert forged.status_code == 403
    assert Asset.objects.count() == 0
    browser.get(reverse("create"))  # sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    good = browser.post(url, {"kind": "image", "file": png.open("rb")}, HTTP_X_CSRFTOKEN=token)
    assert good.status_code == 201, good.content
    assert Asset.objects.count() == 1


def test_the_create_page_tells_the_browser_each_kinds_limit(member_client, settings):
    settings.ANIMATE_MAX_IMAGE_BYTES = 3 * MIB
    html = member_client.get(reverse("create")).content.decode()
    assert f'data-max-bytes="{3 * MIB}"' in html
    assert f'data-max-bytes="{500 * MIB}"' in html
    assert "Up to 3.0\xa0MB." in html


# --- quote ----------------------------------------------------------------------------------------------


def test_a_quote_gives_the_exact_estimate_and_its_breakdown(member_client, video_asset):
    response = post_json(
        member_client,
        "quote",
        {"video_id": video_asset.pk, "choices": {"resolution": "480p", "numberResults": 3}},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True
    assert body["problems"] == {}
    assert body["estimate"] == "0.0300"
    assert (body["tier"], body["billable_seconds"], body["number_results"]) == ("480p", 1, 3)
    assert body["breakdown"] == "1 s × $0.010 × 3 results"


def test_a_quote_without_a_size_is_priced_at_the_top_tier(member_client, video_asset):
    body = post_json(member_client, "quote", {"video_id": video_asset.pk, "choices": {}}).json()
    assert (body["estimate"], body["tier"], body["breakdown"]) == (
        "0.0212",
        "720p",
        "1 s × $0.0212 × 1 result",
    )


def test_a_quote_reports_problems_field_by_field(member_client, video_asset):
    choices = {"fps": 99, "cacheEndStep": 0, "lora": [{"model": "m", "weight": 9}]}
    body = post_json(member_client, "quote", {"video_id": video_asset.pk, "choices": choices}).json()
    assert body["valid"] is False
    assert body["estimate"] is None
    assert set(body["problems"]) == {"fps", "acceleratorOptions.cacheEndStep", "lora[0].weight"}
    assert body["problems"]["fps"].startswith("Frames per second:")


def test_a_quote_reports_form_and_spec_problems_together(member_client, video_asset):
    choices = {"fps": 99, "cacheEndStep": 40}
    body = post_json(member_client, "quote", {"video_id": video_asset.pk, "choices": choices}).json()
    assert body["valid"] is False
    assert set(body["problems"]) == {"fps", "acceleratorOptions.cacheEndStep"}
    assert "at most steps" in body["problems"]["acceleratorOptions.cacheEndStep"]


def test_a_quote_reports_combination_problems_from_the_spec(member_client, video_asset):
    body = post_json(
        member_client, "quote", {"video_id": video_asset.pk, "choices": {"cacheEndStep": 40}}
    ).json()
    assert body["valid"] is False
    assert list(body["problems"]) == ["acceleratorOptions.cacheEndStep"]


def test_a_quote_refuses_a_preset_and_an_exact_size_together(member_client, video_asset):
    choices = {"resolution": "480p", "width": 832, "height": 480}
    body = post_json(member_client, "quote", {"video_id": video_asset.pk, "choices": choices}).json()
    assert body["valid"] is False and "resolution" in body["problems"]


def test_a_quote_needs_a_driving_video(member_client):
    body = post_json(member_client, "quote", {"choices": {}}).json()
    assert body["valid"] is False
    assert "video" in body["problems"]


def test_a_quote_cannot_use_another_teams_video(member_client, outsider_assets):
    _, their_video = outsider_assets
    body = post_json(member_client, "quote", {"video_id": their_video.pk, "choices": {}}).json()
    assert body["valid"] is False
    assert body["problems"]["video"].startswith("Driving video")


def test_a_quote_of_a_non_object_is_refused(member_client):
    response = member_client.post(reverse("quote"), data="[1]", content_type="application/json")
    assert response.status_code == 400


# --- submit ---------------------------------------------------------------------------------------------


def test_submitting_creates_a_queued_generation_with_its_estimate(
    member_client, member, image_asset, video_asset, django_capture_on_commit_callbacks
):
    body = {
        "image_id": image_asset.pk,
        "video_id": video_asset.pk,
        "choices": {"resolution": "480p", "fps": 24},
    }
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_json(member_client, "generation-create", body)
    assert response.status_code == 201
    generation = Generation.objects.get()
    assert response.json()["id"] == generation.pk
    assert response.json()["url"] == reverse("generation-detail", kwargs={"pk": generation.pk})
    assert response.json()["event"]["status"] == "queued"
    assert generation.status == Generation.Status.QUEUED
    assert generation.created_by == member
    assert generation.estimated_cost == Decimal("0.0100")
    assert generation.parameters == {"resolution": "480p", "fps": 24}
    assert callbacks  # the task is enqueued once the transaction commits


def test_submitting_the_page_form_encoded_works_too(member_client, image_asset, video_asset):
    data = {
        "image_id": image_asset.pk,
        "video_id": video_asset.pk,
        "mode": "replace",
        "size": "832x480",
        "seed": "9",
        "numberResults": "2",
    }
    response = member_client.post(reverse("generation-create"), data)
    assert response.status_code == 201
    generation = Generation.objects.get()
    assert generation.parameters == {
        "mode": "replace",
        "width": 832,
        "height": 480,
        "seed": 9,
        "numberResults": 2,
    }
    assert generation.number_results == 2
    assert generation.estimated_cost == Decimal("0.0200")


def test_a_reviewer_cannot_submit(reviewer_client, image_asset, video_asset):
    response = post_json(
        reviewer_client,
        "generation-create",
        {"image_id": image_asset.pk, "video_id": video_asset.pk, "choices": {}},
    )
    assert response.status_code == 403
    assert "Reviewers" in response.json()["error"]
    assert Generation.objects.count() == 0


def test_another_teams_assets_are_refused_naming_the_fields(member_client, outsider_assets):
    image, video = outsider_assets
    response = post_json(
        member_client, "generation-create", {"image_id": image.pk, "video_id": video.pk, "choices": {}}
    )
    assert response.status_code == 400
    assert {"image", "video"} <= set(response.json()["problems"])
    assert Generation.objects.count() == 0


def test_invalid_choices_are_refused_with_problems(member_client, image_asset, video_asset):
    body = {
        "image_id": image_asset.pk,
        "video_id": video_asset.pk,
        "choices": {"steps": 80, "retargetPose": "yes"},
    }
    response = post_json(member_client, "generation-create", body)
    assert response.status_code == 400
    assert set(response.json()["problems"]) == {"steps", "advancedFeatures.wanAnimate.retargetPose"}
    assert Generation.objects.count() == 0


def test_a_rerun_keeps_its_parent(member_client, member, image_asset, video_asset):
    parent = generation_for(member, image_asset, video_asset)
    body = {"image_id": image_asset.pk, "video_id": video_asset.pk, "parent_id": parent.pk, "choices": {}}
    response = post_json(member_client, "generation-create", body)
    assert response.status_code == 201
    assert Generation.objects.get(pk=response.json()["id"]).parent == parent


def test_a_rerun_of_another_teams_generation_is_refused(
    member_client, outsider, outsider_assets, image_asset, video_asset
):
    theirs = generation_for(outsider, *outsider_assets)
    body = {"image_id": image_asset.pk, "video_id": video_asset.pk, "parent_id": theirs.pk, "choices": {}}
    response = post_json(member_client, "generation-create", body)
    assert response.status_code == 400
    assert "parent" in response.json()["problems"]
    assert Generation.objects.count() == 1


# --- re-run -------------------------------------------------------------------------------------------


def test_rerun_prefills_the_inputs_and_parameters(member_client, member, image_asset, video_asset):
    parent = generation_for(
        member,
        image_asset,
        video_asset,
        parameters={"mode": "replace", "width": 832, "height": 480, "fps": 24, "seed": 77, "steps": 12},
    )
    response = member_client.get(reverse("create") + f"?from={parent.pk}")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'name="image_id" id="image_id" value="{image_asset.pk}"' in html
    assert f'name="video_id" id="video_id" value="{video_asset.pk}"' in html
    assert f'name="parent_id" id="parent_id" value="{parent.pk}"' in html
    assert '<option value="832x480" selected>' in html
    assert 'id="id_mode_1" checked' in html
    assert 'name="fps" value="24"' in html
    assert 'name="seed" value="77"' in html
    assert 'name="steps" value="12"' in html
    assert f'"id": {video_asset.pk}' in html  # the preview data for the page script
    assert "rerun-note" in html


def test_rerun_of_another_teams_generation_is_404(member_client, outsider, outsider_assets):
    theirs = generation_for(outsider, *outsider_assets)
    assert member_client.get(reverse("create") + f"?from={theirs.pk}").status_code == 404
    assert member_client.get(reverse("create") + "?from=abc").status_code == 404


def test_submitting_for_a_board_of_the_team_sends_its_results_there(
    member_client, member, outsider, image_asset, video_asset
):
    from animate.models import Board

    ours = Board.objects.create(team=image_asset.team, name="Deliveries")
    theirs = Board.objects.create(team=outsider.memberships.get().team, name="Theirs")
    body = {"image_id": image_asset.pk, "video_id": video_asset.pk, "choices": {"resolution": "480p"}}

    created = post_json(member_client, "generation-create", {**body, "board_id": ours.pk})
    refused = post_json(member_client, "generation-create", {**body, "board_id": theirs.pk})

    assert created.status_code == 201
    assert Generation.objects.get(pk=created.json()["id"]).board_id == ours.pk
    assert refused.status_code == 400 and "board" in refused.json()["problems"]
    assert Generation.objects.count() == 1


# --- budgets ----------------------------------------------------------------------------------------------


def _budget(admin, limit, user=None):
    from animate.models import Membership
    from animate.services import budgets

    budgets.budget_set(
        membership=Membership.objects.get(user=admin),
        user_id=user.pk if user else None,
        monthly_limit=limit,
        actor=admin,
    )


def test_a_quote_shows_what_remains_after_this_run(member_client, admin, member, video_asset):
    _budget(admin, "0.05")

    budget = post_json(
        member_client, "quote", {"video_id": video_asset.pk, "choices": {"resolution": "480p"}}
    ).json()["budget"]

    assert (budget["label"], budget["remaining"], budget["remaining_after"], budget["fits"]) == (
        "The team's monthly budget",
        "0.0500",
        "0.0400",
        True,
    )
    assert budget["message"] is None and "(UTC)" in budget["resets_text"]


def test_a_quote_says_when_the_run_would_be_refused(member_client, admin, member, video_asset):
    _budget(admin, "0.02", user=member)

    choices = {"resolution": "480p", "numberResults": 3}
    budget = post_json(member_client, "quote", {"video_id": video_asset.pk, "choices": choices}).json()[
        "budget"
    ]

    assert (budget["scope"], budget["remaining_after"], budget["fits"]) == ("member", "-0.0100", False)
    assert "your monthly cap has $0.0200 left" in budget["message"]


def test_a_quote_for_a_reviewer_or_without_budgets_has_no_budget_line(
    member_client, reviewer_client, admin, video_asset
):
    body = {"video_id": video_asset.pk, "choices": {"resolution": "480p"}}
    assert post_json(member_client, "quote", body).json()["budget"] is None
    _budget(admin, "1")
    assert post_json(reviewer_client, "quote", body).json()["budget"] is None


def test_an_over_budget_submit_is_refused_with_what_remains_and_nothing_is_saved(
    member_client, admin, image_asset, video_asset
):
    _budget(admin, "0.0050")
    body = {"image_id": image_asset.pk, "video_id": video_asset.pk, "choices": {"resolution": "480p"}}

    response = post_json(member_client, "generation-create", body)

    assert response.status_code == 400
    message = response.json()["problems"]["budget"]
    assert "has $0.0050 left of $0.0050" in message and "It resets on" in message
    assert not Generation.objects.exists()


def test_a_submit_is_recorded_in_the_audit_log_with_the_callers_address(
    member_client, image_asset, video_asset
):
    from animate.models import AuditEvent

    body = {"image_id": image_asset.pk, "video_id": video_asset.pk, "choices": {"resolution": "480p"}}
    member_client.post(
        reverse("generation-create"),
        json.dumps(body),
        content_type="application/json",
        REMOTE_ADDR="203.0.113.8",
    )

    audit = AuditEvent.objects.get(action="generation_submitted")
    assert audit.ip == "203.0.113.8" and audit.target_id == str(Generation.objects.get().pk)


# --- the driving video's audio -------------------------------------------------------------------------


def test_the_keep_audio_box_is_on_and_hidden_until_a_driving_video_with_sound_is_chosen(member_client):
    html = member_client.get(reverse("create")).content.decode()

    box = html[html.index('id="keep-audio-field"') :].split(">", 1)[0]
    assert "hidden" in box
    assert 'id="keep_audio" name="keep_audio" checked' in html
    # Not "driving video": that label belongs to the upload input alone.
    assert "Keep the driving clip's audio</label>" in html


def test_a_rerun_of_a_clip_with_sound_shows_the_box_as_the_parent_had_it(
    member_client, member, team, image_asset, tmp_path
):
    from tests.conftest import make_asset

    clip = make_driving_video(
        tmp_path / "talk.mp4", seconds=1.0, fps=8, width=160, height=240, with_audio=True
    )
    video = make_asset(team, member, "video", clip)
    parent = generation_for(member, image_asset, video, keep_audio=False)

    html = member_client.get(reverse("create") + f"?from={parent.pk}").content.decode()

    box = html[html.index('id="keep-audio-field"') :].split(">", 1)[0]
    assert "hidden" not in box
    assert 'name="keep_audio" aria-describedby' in html  # not checked


def test_the_silent_results_warning_is_gone_while_the_audio_is_kept(member_client, tmp_path):
    clip = make_driving_video(
        tmp_path / "talk.mp4", seconds=1.0, fps=8, width=160, height=240, with_audio=True
    )
    upload = SimpleUploadedFile("talk.mp4", clip.read_bytes(), content_type="video/mp4")

    body = member_client.post(reverse("asset-upload"), {"kind": "video", "file": upload}).json()

    assert (body["has_audio"], body["audio_codec"]) == (True, "aac")
    assert not any("silent" in warning for warning in body["warnings"])


@pytest.mark.parametrize(("sent", "stored"), [(None, True), (True, True), (False, False)])
def test_submitting_from_the_page_carries_the_keep_audio_choice(
    member_client, member, team, image_asset, tmp_path, sent, stored
):
    from tests.conftest import make_asset

    clip = make_driving_video(
        tmp_path / "talk.mp4", seconds=1.0, fps=8, width=160, height=240, with_audio=True
    )
    video = make_asset(team, member, "video", clip)
    body = {"image_id": image_asset.pk, "video_id": video.pk, "choices": {"resolution": "480p"}}
    if sent is not None:
        body["keep_audio"] = sent

    response = post_json(member_client, "generation-create", body)

    assert response.status_code == 201
    assert Generation.objects.get().keep_audio is stored


def test_the_create_page_loads_the_notifier_before_its_own_script(member_client, member):
    html = member_client.get(reverse("create")).content.decode()

    notifier = html.index('<script type="module" src="/static/js/notify.js"></script>')
    assert notifier < html.index('src="/static/js/create.js"')
    assert f'data-notify-control data-user-id="{member.pk}" hidden' in html
