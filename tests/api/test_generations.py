"""Quotes and generations over the API: prices, validation naming paths, submitting, reading."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from animate.models import Generation
from tests.api.conftest import GENERATIONS, QUOTE, api_client, make_generation, make_output

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
    response = api_client(reviewer).post(QUOTE, {"video": video.pk}, format="json")

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
    parent = make_generation(team, creator, image, video)

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
    theirs = make_generation(other_team, outsider, foreign_image, foreign_image)

    response = api.post(
        GENERATIONS, {"image": image.pk, "video": video.pk, "parent": theirs.pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"errors": {"parent": ["No such generation in your team."]}}
    assert Generation.objects.filter(team=image.team).count() == 0


def test_a_reviewer_cannot_create_a_generation(reviewer, image, video):
    response = api_client(reviewer).post(
        GENERATIONS,
        {"image": image.pk, "video": video.pk, "parameters": {"resolution": "480p"}},
        format="json",
    )

    assert response.status_code == 403
    assert list(response.json()["errors"]) == ["detail"]
    assert "Reviewers cannot submit" in response.json()["errors"]["detail"][0]
    assert Generation.objects.count() == 0


def test_a_reviewer_can_still_read_generations(reviewer, creator, team, image, video):
    generation = make_generation(team, creator, image, video)

    response = api_client(reviewer).get(f"{GENERATIONS}{generation.pk}/")

    assert response.status_code == 200


# --- reading generations -------------------------------------------------------------------------


def test_a_generation_shows_its_outputs_with_absolute_urls_and_string_money(api, creator, team, image, video):
    generation = make_generation(
        team, creator, image, video, status=Generation.Status.DONE, actual_cost=Decimal("0.03")
    )
    output = make_output(generation, poster="teams/1/posters/p.jpg")

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
            "audio": "provider",
            "audio_note": "",
            "original": None,
        }
    ]


def test_a_failed_generation_shows_its_error(api, creator, team, image, video):
    generation = make_generation(
        team, creator, image, video, status=Generation.Status.FAILED, error_code="invalidParameter",
        error_message="fps is out of range",
    )  # fmt: skip

    body = api.get(f"{GENERATIONS}{generation.pk}/").json()

    assert body["error"] == {"code": "invalidParameter", "message": "fps is out of range"}


def test_another_teams_generation_is_404(api, other_team, outsider, foreign_image):
    theirs = make_generation(other_team, outsider, foreign_image, foreign_image)

    response = api.get(f"{GENERATIONS}{theirs.pk}/")

    assert response.status_code == 404
    assert response.json() == {"errors": {"detail": ["No such generation in your team."]}}


def test_the_list_is_the_teams_generations_newest_first(
    api, creator, team, image, video, other_team, outsider, foreign_image
):
    older = make_generation(team, creator, image, video)
    newer = make_generation(team, creator, image, video)
    make_generation(other_team, outsider, foreign_image, foreign_image)

    body = api.get(GENERATIONS).json()

    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [newer.pk, older.pk]


def test_the_list_filters_by_status_and_by_mine(api, creator, owner, team, image, video):
    mine_done = make_generation(team, creator, image, video, status=Generation.Status.DONE)
    mine_queued = make_generation(team, creator, image, video)
    theirs_done = make_generation(team, owner, image, video, status=Generation.Status.DONE)

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
            generation = make_generation(team, creator, image, video, status=Generation.Status.DONE)
            make_output(generation)
            make_output(generation)

    make(1)
    with CaptureQueriesContext(connection) as one:
        assert len(api.get(GENERATIONS).json()["results"]) == 1
    # session, user, membership, count, generations (+ creators), outputs, ledger rows (charged, no result)
    assert len(one.captured_queries) <= 7
    make(9)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(api.get(GENERATIONS).json()["results"]) == 10


# --- budgets and charges ----------------------------------------------------------------------------------


def _cap(owner, limit, user=None):
    from animate.models import Membership
    from animate.services import budgets

    budgets.budget_set(
        membership=Membership.objects.get(user=owner),
        user_id=user.pk if user else None,
        monthly_limit=limit,
        actor=owner,
    )


def test_an_over_budget_generation_is_400_under_errors_budget_and_nothing_is_saved(
    api, owner, creator, image, video
):
    _cap(owner, "0.05")
    body = {"image": image.pk, "video": video.pk, "parameters": {"resolution": "480p"}}
    assert api.post(GENERATIONS, body, format="json").status_code == 201  # $0.03 of $0.05

    response = api.post(GENERATIONS, body, format="json")

    assert response.status_code == 400
    (message,) = response.json()["errors"]["budget"]
    assert "has $0.0200 left of $0.0500" in message and "$0.0300 held by runs in flight" in message
    assert "It resets on" in message and Generation.objects.count() == 1


def test_a_quote_carries_the_budget_line(api, owner, creator, image, video):
    _cap(owner, "0.04", user=creator)

    body = api.post(QUOTE, {"video": video.pk, "parameters": {"resolution": "480p"}}, format="json").json()

    assert body["budget"]["remaining_after"] == "0.0100" and body["budget"]["fits"] is True
    assert body["budget"]["scope"] == "member"


def test_a_generation_says_when_it_was_charged_without_a_result(api, creator, team, image, video):
    import uuid

    from tests.costkit import entry

    generation = make_generation(team, creator, image, video, status="failed", reserved_cost=0)
    entry(team, creator, "0.0300", generation=generation, video_uuid=uuid.uuid4())

    body = api.get(f"{GENERATIONS}{generation.pk}/").json()

    assert (body["charged_no_result"], body["charge_flag"], body["reserved_cost"]) == (
        True,
        "Charged, no result",
        "0.0000",
    )


# --- the driving video's audio -----------------------------------------------------------------------


@pytest.fixture
def video_with_sound(team, creator, tmp_path):
    from animate.samples import make_driving_video
    from tests.api.conftest import stored_asset

    clip = make_driving_video(
        tmp_path / "talking.mp4", seconds=1.0, fps=8, width=160, height=240, with_audio=True
    )
    return stored_asset(team, creator, "video", clip)


@pytest.mark.parametrize(
    ("sent", "stored"), [({}, True), ({"keep_audio": True}, True), ({"keep_audio": False}, False)]
)
def test_keep_audio_is_on_by_default_for_a_driving_video_with_sound(
    api, image, video_with_sound, sent, stored
):
    body = {"image": image.pk, "video": video_with_sound.pk, "parameters": {"resolution": "480p"}, **sent}

    response = api.post(GENERATIONS, body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["keep_audio"] is stored
    assert Generation.objects.get(pk=response.json()["id"]).keep_audio is stored


def test_keep_audio_has_no_effect_on_a_silent_driving_video(api, image, video):
    body = {"image": image.pk, "video": video.pk, "parameters": {"resolution": "480p"}, "keep_audio": True}

    response = api.post(GENERATIONS, body, format="json")

    assert response.status_code == 201 and response.json()["keep_audio"] is False


def test_a_keep_audio_that_is_not_a_boolean_is_400_naming_it(api, image, video):
    body = {"image": image.pk, "video": video.pk, "keep_audio": "loud"}

    response = api.post(GENERATIONS, body, format="json")

    assert response.status_code == 400 and "keep_audio" in response.json()["errors"]
    assert not Generation.objects.exists()


def test_an_output_with_the_driving_audio_offers_runware_s_original_too(api, creator, team, image, video):
    generation = make_generation(team, creator, image, video, keep_audio=True, status="done")
    kept = make_output(
        generation,
        audio="kept",
        audio_note="Driving video's audio copied aac, 3.000 s",
        original_file="teams/x/outputs/original.mp4",
        original_sha256="1" * 64,
        original_size=900,
    )
    silent = make_output(generation)

    body = api.get(f"{GENERATIONS}{generation.pk}/").json()

    by_id = {output["id"]: output for output in body["outputs"]}
    assert by_id[kept.pk]["audio"] == "kept"
    assert by_id[kept.pk]["original"] == {
        "url": f"http://testserver/m/outputs/{kept.pk}/original",
        "sha256": "1" * 64,
        "size": 900,
    }
    assert (by_id[silent.pk]["audio"], by_id[silent.pk]["original"]) == ("provider", None)
