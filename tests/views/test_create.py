"""The create page: login, what it renders, the API it points its scripts at, re-run pre-filling.

Uploading, quoting and submitting are the REST API's (tests/api/); the page has no JSON endpoints of
its own."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from animate.samples import make_driving_video
from tests.views.conftest import generation_for

# --- login ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/"),
        ("get", "/generations/"),
        ("get", "/generations/1/"),
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


MIB = 1024 * 1024


def test_the_create_page_tells_the_browser_each_kinds_limit(member_client, settings):
    settings.ANIMATE_MAX_IMAGE_BYTES = 3 * MIB
    html = member_client.get(reverse("create")).content.decode()
    assert f'data-max-bytes="{3 * MIB}"' in html
    assert f'data-max-bytes="{500 * MIB}"' in html
    assert "Up to 3.0\xa0MB." in html


def test_the_page_scripts_call_the_rest_api(member_client, member):
    html = member_client.get(reverse("create")).content.decode()

    for attribute, url in (
        ("data-upload-url", "/api/assets/"),
        ("data-quote-url", "/api/quote/"),
        ("data-create-url", "/api/generations/"),
        ("data-presets-url", "/api/presets/"),
        ("data-generation-page-url", "/generations/0/"),
    ):
        assert f'{attribute}="{url}"' in html
    assert f'data-team-id="{member.memberships.get().team_id}"' in html


@pytest.mark.parametrize("url", ["/assets/upload/", "/quote/", "/generations/new/"])
def test_the_page_only_json_endpoints_are_gone(member_client, url):
    assert member_client.post(url, {}).status_code in (404, 405)


def test_the_page_offers_presets_a_duplicate_confirmation_the_eta_and_clearing_the_draft(member_client):
    html = member_client.get(reverse("create")).content.decode()

    assert '<label for="preset-select">Preset</label>' in html
    assert '<label for="preset-name">Save these settings as</label>' in html
    assert 'id="duplicate" role="status" hidden' in html
    assert '<input type="checkbox" id="confirm-duplicate"> Pay for it again anyway' in html
    assert 'id="eta-line"' in html and 'id="price-note"' in html and 'id="size-note"' in html
    assert 'id="draft-clear"' in html
    assert "Left to Runware, from the inputs (price is a range)" in html


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

    body = member_client.post("/api/assets/", {"kind": "video", "file": upload}).json()

    assert (body["has_audio"], body["audio_codec"]) == (True, "aac")
    assert not any("silent" in warning for warning in body["warnings"])


def test_the_create_page_loads_the_notifier_before_its_own_script(member_client, member):
    html = member_client.get(reverse("create")).content.decode()

    notifier = html.index('<script type="module" src="/static/js/notify.js"></script>')
    assert notifier < html.index('src="/static/js/create.js"')
    assert f'data-notify-control data-user-id="{member.pk}" hidden' in html
