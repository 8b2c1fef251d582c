"""The parameter form is generated from spec.PARAMETERS and turns into the spec-named choices."""

import pytest
from django import forms

from animate.forms import (
    SERVER_SET,
    ParameterForm,
    form_data_from_choices,
    parameter_form_for_choices,
    parameter_form_initial,
)
from animate.runware import spec


def user_settable_paths() -> set[str]:
    return {
        parameter.path
        for parameter in spec.PARAMETERS
        if parameter.path not in SERVER_SET and not parameter.path.startswith("inputs.")
    }


def bound(data: dict) -> ParameterForm:
    form = ParameterForm(data=data)
    assert form.is_valid(), form.errors
    return form


def test_server_set_is_the_one_list_the_service_uses():
    from animate.services.generations import SERVER_KEYS

    expected = {"taskType", "taskUUID", "model", "deliveryMethod", "outputType", "includeCost", "webhookURL"}
    inputs = {"uploadEndpoint", "inputs", "referenceImages", "referenceVideos"}
    assert expected | inputs == SERVER_SET == set(SERVER_KEYS)


def test_a_server_set_key_in_json_choices_is_named_as_set_by_the_server():
    _, problems = form_data_from_choices({"fps": 16, "webhookURL": "https://x.example/", "taskUUID": "x"})
    assert problems == {
        "webhookURL": "webhookURL: set by the server; leave it out.",
        "taskUUID": "taskUUID: set by the server; leave it out.",
    }


def test_the_form_covers_every_parameter_of_the_spec_but_the_server_set_ones():
    form = ParameterForm()
    missing = user_settable_paths() - form.covered_paths()
    assert missing == set()
    for parameter in spec.PARAMETERS:
        if parameter.path in user_settable_paths() and "lora" not in parameter.path:
            if parameter.path in {"width", "height", "resolution"}:
                assert "size" in form.fields
            else:
                assert parameter.key in form.fields, parameter.path


def test_server_set_and_input_parameters_have_no_field():
    form = ParameterForm()
    covered = form.covered_paths()
    for path in SERVER_SET | {"inputs.referenceImages", "inputs.referenceVideos"}:
        assert path not in covered
    for name in ("taskType", "model", "webhookURL", "includeCost", "referenceImages", "referenceVideos"):
        assert name not in form.fields


def test_all_twelve_accelerator_options_are_fields():
    form = ParameterForm()
    accelerators = [p for p in spec.PARAMETERS if p.path.startswith("acceleratorOptions.")]
    assert len(accelerators) == 12
    for parameter in accelerators:
        assert parameter.key in form.fields


def test_fields_take_types_ranges_steps_labels_and_help_from_the_spec():
    form = ParameterForm()
    fps = form.fields["fps"]
    assert isinstance(fps, forms.IntegerField)
    assert (fps.min_value, fps.max_value) == (4, 60)
    assert fps.label == spec.parameter("fps").label
    assert fps.widget.attrs["placeholder"] == "16"
    threshold = form.fields["fbCacheThreshold"]
    assert isinstance(threshold, forms.FloatField)
    assert threshold.widget.attrs["step"] == 0.01
    assert isinstance(form.fields["teaCache"], forms.BooleanField)
    scheduler = form.fields["scheduler"]
    assert isinstance(scheduler, forms.ChoiceField)
    assert [value for value, _ in scheduler.choices][1:] == list(spec.SCHEDULERS)
    assert form.fields["safetyMode"].choices[0] == ("", "Default (none)")
    # Help text is the spec's description, with its Markdown backticks removed.
    assert (
        form.fields["retargetPose"].help_text
        == "Retarget the pose to match the reference image. Only supported in animate mode."
    )


def test_every_field_is_optional_and_a_blank_form_sends_nothing():
    form = bound({})
    assert all(not field.required for field in form.fields.values())
    assert form.choices() == {}


def test_mode_and_basics_become_spec_named_choices():
    form = bound(
        {
            "mode": "replace",
            "fps": "24",
            "numberResults": "2",
            "outputFormat": "WEBM",
            "outputQuality": "80",
            "positivePrompt": "  a dancer  ",
            "seed_random": "on",
            "seed": "7",
        }
    )
    assert form.choices() == {
        "mode": "replace",
        "fps": 24,
        "numberResults": 2,
        "outputFormat": "WEBM",
        "outputQuality": 80,
        "positivePrompt": "a dancer",
    }


def test_an_explicit_seed_is_sent_when_random_is_unticked():
    assert bound({"seed": "42"}).choices() == {"seed": 42}
    assert bound({"seed": str(spec.SEED_MAX)}).choices() == {"seed": spec.SEED_MAX}


def test_size_is_a_preset_or_an_exact_size_never_both():
    assert bound({"size": "580p"}).choices() == {"resolution": "580p"}
    assert bound({"size": "832x480"}).choices() == {"width": 832, "height": 480}
    form = ParameterForm(data={"size": "999x480"})
    assert not form.is_valid()
    assert "resolution" in form.problems()


def test_size_choices_hold_every_preset_and_every_row_of_the_dimension_table():
    form = ParameterForm()
    values = [value for group in form.fields["size"].choices[1:] for value, _ in group[1]]
    assert values[:3] == ["480p", "580p", "720p"]
    assert values[3:] == [f"{w}x{h}" for w, h, _ in spec.DIMENSIONS]


def test_lora_rows_become_a_list_and_blank_rows_are_left_out():
    form = bound(
        {
            "lora-0-model": "civitai:1@2",
            "lora-0-weight": "0.8",
            "lora-1-model": "",
            "lora-2-model": "civitai:3@4",
            "lora-2-transformer": "low",
        }
    )
    assert form.choices() == {
        "lora": [{"model": "civitai:1@2", "weight": 0.8}, {"model": "civitai:3@4", "transformer": "low"}]
    }


def test_a_lora_row_without_a_model_is_an_error_on_that_row():
    form = ParameterForm(data={"lora-0-weight": "0.5"})
    assert not form.is_valid()
    assert list(form.problems()) == ["lora[0].model"]


def test_problems_are_keyed_by_spec_path_and_name_the_field():
    form = ParameterForm(data={"cacheEndStep": "0", "fps": "61", "lora-0-model": "x", "lora-0-weight": "5"})
    assert not form.is_valid()
    problems = form.problems()
    assert set(problems) == {"acceleratorOptions.cacheEndStep", "fps", "lora[0].weight"}
    assert problems["fps"].startswith("Frames per second:")


def test_retarget_pose_is_not_sent_in_replace_mode():
    assert bound({"mode": "replace", "retargetPose": "on"}).choices() == {"mode": "replace"}
    assert bound({"mode": "animate", "retargetPose": "on"}).choices() == {
        "mode": "animate",
        "retargetPose": True,
    }


def test_choices_round_trip_through_the_form():
    choices = {
        "mode": "animate",
        "width": 704,
        "height": 1280,
        "fps": 30,
        "seed": 123,
        "steps": 20,
        "CFGScale": 4.5,
        "scheduler": "Euler a",
        "checkContent": True,
        "safetyMode": "fast",
        "ttl": 3600,
        "teaCache": True,
        "teaCacheDistance": 0.3,
        "cacheEndStepPercentage": 90,
        "prevSegCondFrames": 2,
        "retargetPose": True,
        "lora": [{"model": "civitai:1@2", "weight": -1.5, "transformer": "high"}],
    }
    form, problems = parameter_form_for_choices(choices)
    assert problems == {}
    assert form.is_valid(), form.errors
    assert form.choices() == choices


def test_translating_choices_reports_unknown_keys_and_broken_pairs():
    _, problems = form_data_from_choices({"webhookURL": "https://x", "width": 832})
    assert set(problems) == {"webhookURL", "height"}
    _, problems = form_data_from_choices({"resolution": "480p", "width": 832, "height": 480})
    assert set(problems) == {"resolution"}
    _, problems = form_data_from_choices(["not", "an", "object"])
    assert set(problems) == {"parameters"}


@pytest.mark.parametrize("value", ["abc", True, 30.5])
def test_a_value_of_the_wrong_type_is_a_field_problem(value):
    form, _ = parameter_form_for_choices({"fps": value})
    assert not form.is_valid()
    assert "fps" in form.problems()


def test_the_initial_form_of_a_rerun_shows_the_stored_parameters():
    form = parameter_form_initial(
        {"resolution": "720p", "fps": 24, "mode": "replace", "lora": [{"model": "m"}]}
    )
    assert form["size"].value() == "720p"
    assert form["fps"].value() == "24"
    assert form["mode"].value() == "replace"
    assert form["seed_random"].value() is True
    assert form.lora_rows == 1
    assert form["lora-0-model"].value() == "m"
    with_seed = parameter_form_initial({"seed": 5})
    assert with_seed["seed_random"].value() is False
    assert with_seed["seed"].value() == "5"
