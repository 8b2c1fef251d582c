"""Team presets over the API: saved settings shared by the team, validated field by field, with the
average cost of the generations made with them and, once reviewed, their approval rate."""

import pytest

from animate.models import Generation, Preset, Verdict
from tests.api.conftest import GENERATIONS, api_client, make_generation, make_output
from tests.costkit import entry

PRESETS = "/api/presets/"
RANGE = "must be an integer from 4 to 60."
HELD = "not a setting a preset can hold."
SETTINGS = {"resolution": "480p", "fps": 12, "mode": "replace", "seed": 9}


def test_saving_a_preset_shares_it_with_the_team(api, owner, reviewer):
    response = api.post(PRESETS, {"name": "Dance draft", "parameters": SETTINGS}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["parameters"], body["created_by"]) == ("Dance draft", SETTINGS, "creator")
    assert (body["runs"], body["average_cost"], body["reviewed"], body["approval_rate"]) == (0, None, 0, None)
    for teammate in (owner, reviewer):
        listed = api_client(teammate).get(PRESETS).json()
        assert [preset["name"] for preset in listed] == ["Dance draft"]


def test_presets_are_listed_by_name_and_never_across_teams(api, outsider):
    for name in ("b-roll", "Alpha", "close-up"):
        api.post(PRESETS, {"name": name, "parameters": {}}, format="json")

    assert [preset["name"] for preset in api.get(PRESETS).json()] == ["Alpha", "b-roll", "close-up"]
    assert api_client(outsider).get(PRESETS).json() == []
    theirs = Preset.objects.first()
    assert api_client(outsider).get(f"{PRESETS}{theirs.pk}/").status_code == 404
    assert api_client(outsider).delete(f"{PRESETS}{theirs.pk}/").status_code == 404
    assert Preset.objects.count() == 3


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": "", "parameters": {}}, "name", "Preset name: give the preset a name."),
        ({"name": "   ", "parameters": {}}, "name", "Preset name: give the preset a name."),
        ({"name": "x" * 81, "parameters": {}}, "name", "Preset name: at most 80 characters."),
        ({"parameters": {}}, "name", "Preset name: give the preset a name."),
        ({"name": "Fast", "parameters": {"fps": 99}}, "parameters.fps", f"Frames per second: {RANGE}"),
        ({"name": "Fast", "parameters": {"taskUUID": "x"}}, "parameters.taskUUID", f"Task UUID: {HELD}"),
        ({"name": "Fast", "parameters": {"image": 3}}, "parameters.image", f"image: {HELD}"),
    ],
)  # fmt: skip
def test_an_invalid_preset_is_refused_naming_the_field(api, body, field, message):
    response = api.post(PRESETS, body, format="json")

    assert response.status_code == 400
    assert response.json() == {"errors": {field: [message]}}
    assert not Preset.objects.exists()


def test_a_name_is_unique_in_the_team_ignoring_case(api, outsider):
    api.post(PRESETS, {"name": "Dance", "parameters": {}}, format="json")

    again = api.post(PRESETS, {"name": "dance", "parameters": {}}, format="json")
    elsewhere = api_client(outsider).post(PRESETS, {"name": "Dance", "parameters": {}}, format="json")

    assert again.status_code == 400
    assert again.json()["errors"]["name"] == ["Preset name: the team already has a preset called “dance”."]
    assert elsewhere.status_code == 201


def test_a_reviewer_may_read_but_not_save_presets(reviewer):
    client = api_client(reviewer)

    assert client.get(PRESETS).status_code == 200
    assert client.post(PRESETS, {"name": "Mine", "parameters": {}}, format="json").status_code == 403
    assert not Preset.objects.exists()


def test_a_preset_can_be_renamed_changed_and_deleted(api, creator, team, image, video):
    preset = api.post(PRESETS, {"name": "Draft", "parameters": SETTINGS}, format="json").json()
    url = f"{PRESETS}{preset['id']}/"
    used = make_generation(team, creator, image, video, preset_id=preset["id"])

    renamed = api.patch(url, {"name": "Final", "parameters": {"resolution": "720p"}}, format="json")
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["parameters"]) == ("Final", {"resolution": "720p"})
    assert api.patch(url, {"parameters": {"fps": 1}}, format="json").json() == {
        "errors": {"parameters.fps": ["Frames per second: must be an integer from 4 to 60."]}
    }
    assert api.delete(url).status_code == 204
    assert not Preset.objects.exists()
    used.refresh_from_db()
    assert used.preset_id is None  # the run keeps its history


def test_a_generation_records_the_preset_it_was_made_with(api, image, video, outsider):
    preset = api.post(PRESETS, {"name": "Draft", "parameters": SETTINGS}, format="json").json()
    theirs = api_client(outsider).post(PRESETS, {"name": "Theirs", "parameters": {}}, format="json").json()
    body = {"image": image.pk, "video": video.pk, "parameters": SETTINGS}

    made = api.post(GENERATIONS, {**body, "preset": preset["id"]}, format="json")
    refused = api.post(
        GENERATIONS, {**body, "preset": theirs["id"], "confirm_duplicate": True}, format="json"
    )

    assert made.status_code == 201
    assert Generation.objects.get(pk=made.json()["id"]).preset_id == preset["id"]
    assert refused.status_code == 400 and refused.json()["errors"] == {
        "preset": ["No such preset in your team."]
    }


def test_a_preset_shows_its_average_cost_from_the_ledger_and_its_approval_rate(
    api, creator, owner, reviewer, team, image, video, django_assert_max_num_queries
):
    preset = Preset.objects.create(team=team, name="Draft", parameters={})
    other = Preset.objects.create(team=team, name="Other", parameters={})
    runs = [make_generation(team, creator, image, video, preset=preset) for _ in range(2)]
    entry(team, creator, "0.0300", generation=runs[0])
    entry(team, creator, "0.0300", generation=runs[1])
    entry(team, creator, "0.0600", generation=runs[1])  # two results: that run cost 0.09
    entry(team, creator, "1.0000", generation=make_generation(team, creator, image, video, preset=other))
    outputs = [make_output(runs[0]), make_output(runs[1]), make_output(runs[1])]
    for output, decision in zip(outputs[:2], ("approved", "rejected"), strict=True):
        Verdict.objects.create(team=team, output=output, reviewer=reviewer, decision=decision)
    Verdict.objects.create(team=team, output=outputs[0], reviewer=owner, decision="approved")

    with django_assert_max_num_queries(12):
        listed = {item["name"]: item for item in api.get(PRESETS).json()}

    draft = listed["Draft"]
    assert (draft["runs"], draft["average_cost"], draft["currency"]) == (2, "0.0600", "USD")
    # Two of three outputs reviewed: one approved, one rejected; the third is still unreviewed.
    assert (draft["reviewed"], draft["approval_rate"]) == (2, 0.5)
    assert (listed["Other"]["average_cost"], listed["Other"]["approval_rate"]) == ("1.0000", None)
