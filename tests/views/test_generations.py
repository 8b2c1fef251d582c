"""A creator's runs: the list of their generations and one generation's result page."""

from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from animate.models import Generation
from tests.views.conftest import generation_for, output_for

# --- list -----------------------------------------------------------------------------------------------


def test_my_generations_lists_mine_newest_first_with_status_and_costs(
    member_client, member, admin, image_asset, video_asset
):
    older = generation_for(member, image_asset, video_asset)
    newer = generation_for(
        member, image_asset, video_asset, status=Generation.Status.DONE, actual_cost=Decimal("0.0100")
    )
    output_for(newer)
    generation_for(admin, image_asset, video_asset)  # a teammate's run is not "mine"
    response = member_client.get(reverse("generation-list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert [row["generation"].pk for row in response.context["rows"]] == [newer.pk, older.pk]
    assert html.index(f"Generation #{newer.pk}") < html.index(f"Generation #{older.pk}")
    assert "badge--done" in html and "Done" in html and "badge--queued" in html
    assert "Animate · 480p · 16 fps · 1 result" in html
    assert "$0.0100" in html
    output = newer.outputs.get()
    assert reverse("media-output-poster", kwargs={"pk": output.pk}) in html
    assert reverse("media-asset-poster", kwargs={"pk": video_asset.pk}) in html


def test_my_generations_is_paginated_by_25(member_client, member, image_asset, video_asset):
    for _ in range(27):
        generation_for(member, image_asset, video_asset)
    first = member_client.get(reverse("generation-list"))
    second = member_client.get(reverse("generation-list") + "?page=2")
    assert len(first.context["rows"]) == 25
    assert len(second.context["rows"]) == 2
    assert b"Page 2 of 2" in second.content


def test_my_generations_uses_a_constant_number_of_queries(
    member_client, member, image_asset, video_asset, django_assert_max_num_queries
):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert member_client.get(reverse("generation-list")).status_code == 200
        return len(captured)

    first = generation_for(member, image_asset, video_asset)
    output_for(first)
    with_one = count()
    for index in range(9):
        generation = generation_for(member, image_asset, video_asset)
        if index % 2:
            output_for(generation, poster=bool(index % 3))
    with_ten = count()
    assert with_ten == with_one
    with django_assert_max_num_queries(with_one):
        member_client.get(reverse("generation-list"))


# --- result page ----------------------------------------------------------------------------------------


def test_the_result_page_plays_outputs_beside_the_inputs(member_client, member, image_asset, video_asset):
    generation = generation_for(
        member,
        image_asset,
        video_asset,
        status=Generation.Status.DONE,
        parameters={
            "mode": "animate",
            "resolution": "480p",
            "CFGScale": 5.0,
            "lora": [{"model": "m", "weight": 0.5}],
        },
        actual_cost=Decimal("0.0100"),
    )
    output = output_for(generation, nsfw=True, seed=987654321)
    response = member_client.get(reverse("generation-detail", kwargs={"pk": generation.pk}))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'src="{reverse("media-output", kwargs={"pk": output.pk})}"' in html
    assert 'controls preload="metadata"' in html
    assert f'href="{reverse("media-output", kwargs={"pk": output.pk})}?download=1"' in html
    assert f'src="{reverse("media-asset", kwargs={"pk": video_asset.pk})}"' in html
    assert f'src="{reverse("media-asset", kwargs={"pk": image_asset.pk})}"' in html
    assert "987654321" in html
    assert "Guidance scale" in html and "acceleratorOptions" not in html
    assert "m (weight 0.5, both)" in html
    assert "Flagged" in html
    assert "$0.0100" in html
    assert f'href="/?from={generation.pk}"' in html
    assert 'id="sync-toggle"' in html


def test_a_failed_result_shows_the_providers_error(member_client, member, image_asset, video_asset):
    generation = generation_for(
        member,
        image_asset,
        video_asset,
        status=Generation.Status.FAILED,
        error_code="invalidReferenceVideo",
        error_message="The reference video could not be decoded.",
    )
    html = member_client.get(reverse("generation-detail", kwargs={"pk": generation.pk})).content.decode()
    assert "The reference video could not be decoded." in html
    assert "invalidReferenceVideo" in html
    assert "is-failed" in html


def test_a_teammates_result_is_visible(member_client, admin, image_asset, video_asset):
    generation = generation_for(admin, image_asset, video_asset)
    assert member_client.get(reverse("generation-detail", kwargs={"pk": generation.pk})).status_code == 200


def test_another_teams_result_is_404(member_client, outsider, outsider_assets):
    theirs = generation_for(outsider, *outsider_assets)
    assert member_client.get(reverse("generation-detail", kwargs={"pk": theirs.pk})).status_code == 404


def test_a_run_charged_without_its_result_says_so_in_the_list_and_on_its_page(
    member_client, member, image_asset, video_asset
):
    import uuid

    from tests.costkit import entry

    generation = generation_for(
        member, image_asset, video_asset, status="failed", error_message="download refused"
    )
    entry(generation.team, member, "0.0100", generation=generation, video_uuid=uuid.uuid4())

    listing = member_client.get(reverse("generation-list")).content.decode()
    detail = member_client.get(reverse("generation-detail", kwargs={"pk": generation.pk})).content.decode()

    assert '<span class="badge badge--charged" data-charge-flag>Charged, no result</span>' in listing
    assert '<span class="badge badge--charged" data-charge-flag>Charged, no result</span>' in detail
    assert "the charge stays in the ledger" in detail


# --- run states -------------------------------------------------------------------------------------------


def test_a_partial_run_reads_done_k_of_n_with_the_missing_results_error(
    member_client, member, image_asset, video_asset
):
    generation = generation_for(
        member,
        image_asset,
        video_asset,
        status=Generation.Status.DONE,
        number_results=3,
        results_failed=1,
        error_code="inferenceError",
        error_message="Result 3 could not be generated.",
    )
    output_for(generation)
    output_for(generation)
    for name, kwargs in (("generation-list", {}), ("generation-detail", {"pk": generation.pk})):
        html = member_client.get(reverse(name, kwargs=kwargs)).content.decode()
        assert "badge--partial" in html and "Done — 2 of 3" in html
        assert "Result 3 could not be generated." in html
    detail = member_client.get(reverse("generation-detail", kwargs={"pk": generation.pk}))
    done_step = next(step for step in detail.context["steps"] if step["key"] == "done")
    assert done_step["label"] == "Done, some results failed"


def test_every_step_shows_its_time_on_the_result_page(member_client, member, image_asset, video_asset):
    from django.utils import timezone

    now = timezone.now()
    generation = generation_for(
        member,
        image_asset,
        video_asset,
        status=Generation.Status.DONE,
        submitted_at=now,
        processing_at=now,
        receiving_at=now,
        completed_at=now,
    )
    output_for(generation)
    steps = member_client.get(reverse("generation-detail", kwargs={"pk": generation.pk})).context["steps"]
    assert [step["key"] for step in steps] == ["queued", "submitted", "processing", "receiving", "done"]
    assert all(step["time"] for step in steps)


def test_admins_get_check_now_and_stop_waiting_on_a_run_and_members_do_not(
    client, member_client, admin, member, image_asset, video_asset
):
    generation = generation_for(member, image_asset, video_asset, status=Generation.Status.PROCESSING)
    url = reverse("generation-detail", kwargs={"pk": generation.pk})
    assert b'id="check-now"' not in member_client.get(url).content
    client.force_login(admin)
    html = client.get(url).content.decode()
    assert 'id="check-now"' in html and 'id="stop-waiting"' in html
    assert reverse("api:generation-stop-waiting", kwargs={"pk": generation.pk}) in html
    assert 'id="stopped-note" hidden' in html


def test_a_stopped_run_says_the_charge_may_still_come(member_client, member, image_asset, video_asset):
    generation = generation_for(
        member,
        image_asset,
        video_asset,
        status=Generation.Status.FAILED,
        error_code="stoppedWaiting",
        error_message="Stopped waiting by ada.",
    )
    html = member_client.get(reverse("generation-detail", kwargs={"pk": generation.pk})).content.decode()
    assert 'id="stopped-note">' in html and "it may still finish this run and charge for it" in html


def test_the_list_carries_each_runs_live_state_with_its_eta(member_client, member, image_asset, video_asset):
    running = generation_for(member, image_asset, video_asset, status=Generation.Status.SUBMITTED)
    response = member_client.get(reverse("generation-list"))
    events = {event["id"]: event for event in response.context["events"]}
    assert events[running.pk]["eta"]["basis"] == "default"
    assert 'id="gen-events"' in response.content.decode()


# --- flagged results and sound --------------------------------------------------------------------------


def test_a_flagged_result_plays_blurred_under_a_show_anyway_cover(
    member_client, member, image_asset, video_asset
):
    generation = generation_for(member, image_asset, video_asset, status=Generation.Status.DONE)
    flagged = output_for(generation, nsfw=True)
    clean = output_for(generation, nsfw=False)

    html = member_client.get(reverse("generation-detail", kwargs={"pk": generation.pk})).content.decode()

    def block(output):
        start = html.index(f'data-output-id="{output.pk}"')
        return html[start : html.index("output-bar", start)]

    assert 'class="media-frame is-nsfw" data-nsfw-frame' in block(flagged)
    assert "data-reveal>Show anyway</button>" in block(flagged)
    assert "is-nsfw" not in block(clean) and "data-reveal" not in block(clean)
    assert 'src="/static/js/detail.js"' in html or "js/detail.js" in html


def test_a_result_with_the_driving_audio_offers_runware_s_original_and_a_failure_says_why(
    member_client, member, image_asset, video_asset
):
    generation = generation_for(
        member, image_asset, video_asset, status=Generation.Status.DONE, keep_audio=True
    )
    kept = output_for(generation, audio="kept", original_file="teams/1/outputs/x/original.mp4")
    failed = output_for(generation, audio="failed", audio_note="Audio could not be added: no audio track.")

    html = member_client.get(reverse("generation-detail", kwargs={"pk": generation.pk})).content.decode()

    assert f'href="{reverse("media-output-original", kwargs={"pk": kept.pk})}?download=1"' in html
    assert "With the driving video's sound" in html
    assert "Audio could not be added: no audio track. This is Runware's silent file." in html
    assert reverse("media-output-original", kwargs={"pk": failed.pk}) not in html


def test_the_generation_pages_load_the_notifier_as_a_module_with_its_control(
    member_client, member, image_asset, video_asset
):
    generation = generation_for(member, image_asset, video_asset)

    for url in (reverse("generation-list"), reverse("generation-detail", kwargs={"pk": generation.pk})):
        html = member_client.get(url).content.decode()
        assert '<script type="module" src="/static/js/notify.js"></script>' in html
        assert f'data-notify-control data-user-id="{member.pk}" hidden' in html
        assert "Notify me when runs finish</button>" in html


def test_a_dismissed_run_stays_in_my_generations_and_the_gallery(
    member_client, member, image_asset, video_asset
):
    from django.utils import timezone

    generation = generation_for(
        member, image_asset, video_asset, status=Generation.Status.DONE, dismissed_at=timezone.now()
    )
    output = output_for(generation)
    assert f"Generation #{generation.pk}" in member_client.get(reverse("generation-list")).content.decode()
    gallery = member_client.get(reverse("gallery")).content.decode()
    assert f'data-output-id="{output.pk}"' in gallery or f"/outputs/{output.pk}/" in gallery
