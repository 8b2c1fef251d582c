"""Quotes and generations over the API: prices, validation naming paths, submitting, reading."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult
from rest_framework.authtoken.models import Token

from animate.models import Generation
from animate.runware.sandbox.engine import sandbox
from animate.samples import make_driving_video
from tests.api.conftest import GENERATIONS, QUOTE, api_client, make_generation, make_output, stored_asset
from tests.livehelpers import fast_settings, wait_terminal

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


# --- exact prices ----------------------------------------------------------------------------------


def test_a_quote_with_a_size_left_to_runware_is_a_range_with_its_reason(api, image, video):
    body = api.post(QUOTE, {"image": image.pk, "video": video.pk, "parameters": {}}, format="json").json()

    assert body["valid"] is True
    assert body["exact"] is False
    assert body["tier"] is None
    # 3 s at the cheapest (480p, $0.010) and the dearest (720p, $0.0212) tier a table row can have.
    assert (body["estimate_min"], body["estimate_max"]) == ("0.0300", "0.0636")
    assert body["estimate"] == "0.0636"  # what the budget reserves: never below the charge
    assert "Size left to Runware" in body["price_note"]
    assert body["breakdown"] == "3 s × $0.010–$0.0212 × 1 result"


def test_a_quote_with_an_explicit_size_is_exact(api, image, video):
    parameters = {"width": 832, "height": 480, "numberResults": 2}
    body = api.post(
        QUOTE, {"image": image.pk, "video": video.pk, "parameters": parameters}, format="json"
    ).json()

    assert body["exact"] is True and body["price_note"] is None
    assert body["estimate_min"] == body["estimate_max"] == body["estimate"] == "0.0600"
    assert body["tier"] == "480p"
    assert body["breakdown"] == "3 s × $0.010 × 2 results"


def test_a_quote_suggests_the_table_size_closest_to_the_videos_aspect_ratio(api, team, creator, tmp_path):
    wide = stored_asset(
        team,
        creator,
        "video",
        make_driving_video(tmp_path / "wide.mp4", seconds=1, fps=8, width=320, height=180),
    )

    body = api.post(QUOTE, {"video": wide.pk}, format="json").json()

    assert body["suggested_size"] == {
        "value": "832x480",
        "width": 832,
        "height": 480,
        "tier": "480p",
        "text": "832×480 — closest to your video's 16:9",
    }


def test_a_quote_problem_names_the_field_by_its_label(api, image, video):
    body = api.post(
        QUOTE, {"image": image.pk, "video": video.pk, "parameters": {"fps": 99}}, format="json"
    ).json()

    assert body["problems"] == {"parameters.fps": "Frames per second: must be an integer from 4 to 60."}


# --- idempotent submits ------------------------------------------------------------------------------


def submit_body(image, video, **parameters):
    return {"image": image.pk, "video": video.pk, "parameters": {"resolution": "480p", **parameters}}


def test_the_same_idempotency_key_twice_gives_the_same_generation_and_one_task(api, image, video):
    body = submit_body(image, video)

    first = api.post(GENERATIONS, body, format="json", HTTP_IDEMPOTENCY_KEY="draft-1")
    again = api.post(GENERATIONS, body, format="json", HTTP_IDEMPOTENCY_KEY="draft-1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Generation.objects.count() == 1
    assert DBTaskResult.objects.filter(task_path__endswith="submit_generation").count() == 1
    assert Generation.objects.get().idempotency_key == "draft-1"


def test_the_same_key_with_a_different_body_is_422_naming_the_header(api, image, video):
    api.post(GENERATIONS, submit_body(image, video), format="json", HTTP_IDEMPOTENCY_KEY="draft-1")

    response = api.post(
        GENERATIONS, submit_body(image, video, fps=8), format="json", HTTP_IDEMPOTENCY_KEY="draft-1"
    )

    assert response.status_code == 422
    [message] = response.json()["errors"]["Idempotency-Key"]
    assert "already used for generation #" in message and "different request" in message
    assert Generation.objects.count() == 1


def test_a_key_is_per_team(api, outsider, other_team, image, video, png_path, mp4_path):
    api.post(GENERATIONS, submit_body(image, video), format="json", HTTP_IDEMPOTENCY_KEY="shared")
    their_image = stored_asset(other_team, outsider, "image", png_path)
    their_video = stored_asset(other_team, outsider, "video", mp4_path)

    theirs = api_client(outsider).post(
        GENERATIONS, submit_body(their_image, their_video), format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )

    assert theirs.status_code == 201, theirs.json()
    assert Generation.objects.count() == 2


def test_without_a_key_two_posts_make_two_generations(api, image, video):
    api.post(GENERATIONS, submit_body(image, video), format="json")
    api.post(GENERATIONS, submit_body(image, video), format="json")

    assert Generation.objects.count() == 2


def test_an_overlong_idempotency_key_is_400_naming_the_header(api, image, video):
    response = api.post(GENERATIONS, submit_body(image, video), format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["Idempotency-Key"]


def _two_racing_posts_make_one_run(live_server, creator, image, video, settings) -> None:
    fast_settings(settings)
    token = Token.objects.create(user=creator).key
    body = submit_body(image, video, fps=8)
    before = sandbox().task_uuids()
    barrier = threading.Barrier(2)

    def post() -> httpx.Response:
        barrier.wait()
        return httpx.post(
            f"{live_server.url}{GENERATIONS}",
            json=body,
            headers={"Authorization": f"Token {token}", "Idempotency-Key": "double-click"},
            timeout=30,
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(lambda _: post(), range(2)))

    assert sorted(response.status_code for response in responses) == [200, 201], [r.text for r in responses]
    assert len({response.json()["id"] for response in responses}) == 1
    generation = wait_terminal(Generation.objects.get())
    assert generation.status == Generation.Status.DONE
    assert sandbox().task_uuids() - before == {str(generation.task_uuid)}
    assert generation.cost_entries.count() == 1


@pytest.mark.timeout(120)
def test_two_concurrent_posts_with_one_key_make_one_generation_and_one_sandbox_task(
    live_server, creator, image, video, settings
):
    _two_racing_posts_make_one_run(live_server, creator, image, video, settings)


@pytest.mark.postgres
@pytest.mark.timeout(120)
def test_two_concurrent_posts_with_one_key_make_one_run_on_postgresql_too(
    live_server, creator, image, video, settings
):
    # There the two inserts really overlap: the unique (team, key) index makes the loser wait, fail and
    # answer the winner's generation.
    _two_racing_posts_make_one_run(live_server, creator, image, video, settings)


# --- identical jobs ------------------------------------------------------------------------------------


def test_an_identical_job_with_an_explicit_seed_is_409_naming_the_earlier_run_and_its_cost(api, image, video):
    first = api.post(GENERATIONS, submit_body(image, video, seed=5), format="json").json()

    response = api.post(GENERATIONS, submit_body(image, video, seed=5), format="json")

    assert response.status_code == 409
    body = response.json()
    assert body["earlier"]["id"] == first["id"]
    assert body["earlier"]["url"] == f"/generations/{first['id']}/"
    assert body["earlier"]["cost"] == "0.0300"
    [message] = body["errors"]["confirm_duplicate"]
    assert f"#{first['id']}" in message and "$0.0300" in message
    assert Generation.objects.count() == 1


def test_an_identical_job_runs_when_confirmed(api, image, video):
    api.post(GENERATIONS, submit_body(image, video, seed=5), format="json")

    response = api.post(
        GENERATIONS, {**submit_body(image, video, seed=5), "confirm_duplicate": True}, format="json"
    )

    assert response.status_code == 201
    assert Generation.objects.count() == 2


def test_a_random_seed_or_another_setting_is_not_a_repeat(api, image, video):
    api.post(GENERATIONS, submit_body(image, video, seed=5), format="json")

    assert api.post(GENERATIONS, submit_body(image, video), format="json").status_code == 201
    assert api.post(GENERATIONS, submit_body(image, video), format="json").status_code == 201
    assert api.post(GENERATIONS, submit_body(image, video, seed=6), format="json").status_code == 201


def test_a_failed_earlier_run_is_not_a_repeat(api, image, video):
    first = api.post(GENERATIONS, submit_body(image, video, seed=5), format="json").json()
    Generation.objects.filter(pk=first["id"]).update(status=Generation.Status.FAILED)

    assert api.post(GENERATIONS, submit_body(image, video, seed=5), format="json").status_code == 201


def test_another_teams_identical_job_is_not_a_repeat(
    api, outsider, other_team, image, video, png_path, mp4_path
):
    # The same bytes in the other team: same hashes, same parameters, same seed.
    their_image = stored_asset(other_team, outsider, "image", png_path)
    their_video = stored_asset(other_team, outsider, "video", mp4_path)
    theirs = api_client(outsider).post(
        GENERATIONS, submit_body(their_image, their_video, seed=5), format="json"
    )
    assert theirs.status_code == 201

    assert api.post(GENERATIONS, submit_body(image, video, seed=5), format="json").status_code == 201


def test_the_quote_names_an_identical_earlier_run(api, image, video):
    first = api.post(GENERATIONS, submit_body(image, video, seed=5), format="json").json()

    same = api.post(QUOTE, submit_body(image, video, seed=5), format="json").json()
    other = api.post(QUOTE, submit_body(image, video, seed=6), format="json").json()

    assert same["duplicate"]["id"] == first["id"] and same["duplicate"]["cost"] == "0.0300"
    assert other["duplicate"] is None


def test_the_schema_documents_the_header_the_confirm_flag_and_the_conflict(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/generations/"]["post"]

    assert "Idempotency-Key" in [parameter["name"] for parameter in operation["parameters"]]
    assert {"409", "422", "200", "201"} <= set(operation["responses"])
    request = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "confirm_duplicate" in schema["components"]["schemas"][request]["properties"]


# --- what the create page relies on -------------------------------------------------------------------


def test_a_submit_for_a_board_of_the_team_sends_its_results_there(api, team, other_team, image, video):
    from animate.models import Board

    ours = Board.objects.create(team=team, name="Deliveries")
    theirs = Board.objects.create(team=other_team, name="Theirs")

    created = api.post(GENERATIONS, {**submit_body(image, video), "board": ours.pk}, format="json")
    refused = api.post(GENERATIONS, {**submit_body(image, video), "board": theirs.pk}, format="json")

    assert created.status_code == 201
    assert Generation.objects.get(pk=created.json()["id"]).board_id == ours.pk
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["board"]
    assert Generation.objects.count() == 1


def test_a_submit_is_recorded_in_the_audit_log_with_the_callers_address(api, image, video):
    from animate.models import AuditEvent

    api.post(GENERATIONS, submit_body(image, video), format="json", REMOTE_ADDR="203.0.113.8")

    audit = AuditEvent.objects.get(action="generation_submitted")
    assert audit.ip == "203.0.113.8" and audit.target_id == str(Generation.objects.get().pk)


def test_a_browser_submit_needs_the_csrf_token(creator, image, video):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(creator)
    body = submit_body(image, video)

    forged = browser.post(GENERATIONS, body, content_type="application/json")
    browser.get("/")
    good = browser.post(
        GENERATIONS,
        body,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value,
    )

    assert forged.status_code == 403 and good.status_code == 201
    assert Generation.objects.count() == 1


# --- ETA, and what is done to a run after submitting it ------------------------------------------


def test_a_quote_says_how_long_such_a_run_usually_takes(api, team, creator, image, video):
    from datetime import timedelta

    from django.utils import timezone

    body = api.post(QUOTE, {"video": video.pk, "parameters": {"resolution": "720p"}}, format="json").json()
    # No history yet: the default rate of the tier, times the video's 3 s.
    assert body["eta"] == {"p50_seconds": 135, "p90_seconds": 270, "basis": "default", "runs": 0}
    start = timezone.now() - timedelta(hours=1)
    for seconds in (30, 30, 30, 30, 60):
        done = make_generation(team, creator, image, video, status="done", parameters={"resolution": "720p"})
        Generation.objects.filter(pk=done.pk).update(
            created_at=start, completed_at=start + timedelta(seconds=seconds)
        )
    body = api.post(QUOTE, {"video": video.pk, "parameters": {"resolution": "720p"}}, format="json").json()
    assert body["eta"] == {"p50_seconds": 30, "p90_seconds": 60, "basis": "team", "runs": 5}


def test_a_quote_without_a_video_has_no_eta(api):
    assert api.post(QUOTE, {"parameters": {}}, format="json").json()["eta"] is None


def test_an_admin_stops_waiting_for_a_run_and_the_answer_is_the_failed_run(
    team, owner, creator, image, video
):
    generation = make_generation(team, creator, image, video, status="processing")
    response = api_client(owner).post(f"{GENERATIONS}{generation.pk}/stop-waiting/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "failed" and body["error"]["code"] == "stoppedWaiting"
    assert body["error"]["message"].startswith("Stopped waiting by owner.")
    again = api_client(owner).post(f"{GENERATIONS}{generation.pk}/stop-waiting/")
    assert again.status_code == 400 and "already ended" in again.json()["errors"]["generation"][0]


def test_members_cannot_check_or_stop_and_other_teams_get_404(team, owner, creator, outsider, image, video):
    generation = make_generation(team, creator, image, video, status="processing")
    for action in ("check", "stop-waiting"):
        assert api_client(creator).post(f"{GENERATIONS}{generation.pk}/{action}/").status_code == 403
        assert api_client(outsider).post(f"{GENERATIONS}{generation.pk}/{action}/").status_code == 404
    generation.refresh_from_db()
    assert generation.status == "processing"


def test_checking_a_run_not_sent_yet_is_a_400_naming_generation(team, owner, creator, image, video):
    generation = make_generation(team, creator, image, video)
    response = api_client(owner).post(f"{GENERATIONS}{generation.pk}/check/")
    assert response.status_code == 400 and "not been sent" in response.json()["errors"]["generation"][0]


def test_a_creator_dismisses_an_ended_run_and_it_stays_in_the_list(api, team, creator, image, video):
    ended = make_generation(team, creator, image, video, status="done")
    running = make_generation(team, creator, image, video, status="submitted")
    response = api.post(f"{GENERATIONS}{ended.pk}/dismiss/")
    assert response.status_code == 200 and response.json()["dismissed"] is True
    refused = api.post(f"{GENERATIONS}{running.pk}/dismiss/")
    assert refused.status_code == 400 and "finished or failed" in refused.json()["errors"]["generation"][0]
    listed = {row["id"]: row["dismissed"] for row in api.get(GENERATIONS).json()["results"]}
    assert listed == {ended.pk: True, running.pk: False}


def test_a_partial_run_reads_done_k_of_n_with_its_error(api, team, creator, image, video):
    generation = make_generation(
        team,
        creator,
        image,
        video,
        status="done",
        number_results=3,
        results_failed=1,
        error_code="inferenceError",
        error_message="Result 2 failed.",
    )
    make_output(generation)
    make_output(generation)
    body = api.get(f"{GENERATIONS}{generation.pk}/").json()
    assert (body["status"], body["status_label"], body["results_failed"]) == ("done", "Done — 2 of 3", 1)
    assert body["error"] == {"code": "inferenceError", "message": "Result 2 failed."}
    assert len(body["outputs"]) == 2 and "receiving" in body["timestamps"]


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
