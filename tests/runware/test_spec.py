"""spec.py against the model page: every parameter, range, allowed value and rule, both sides."""

import base64
import copy
import dataclasses
import math
import re
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from animate.runware import spec

UUID4 = "8c4e1b0a-3f2d-4a6b-9c8d-7e6f5a4b3c2d"
# Fixed, not generated: parametrized ids must be the same in every pytest-xdist worker.
OTHER_UUID4 = "3b6e2f1a-9c4d-4e8f-a1b2-c3d4e5f60718"
UUID1 = "f68f1fa8-ed8a-11f1-ac9a-02fc00000001"
IMAGE = "https://media.example.com/character.png"
VIDEO = "https://media.example.com/driving.mp4"
PNG_B64 = base64.b64encode(b"\x89PNG\r\n\x1a\n fake image").decode()
ACC = "acceleratorOptions."
WAN = "advancedFeatures.wanAnimate."
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def minimal_task(**choices: Any) -> dict[str, Any]:
    return spec.build_task(
        {"referenceImages": [IMAGE], "referenceVideos": [VIDEO], **choices}, task_uuid=UUID4
    )


def tokens(path: str) -> list[str | int]:
    return [int(t[1:-1]) if t.startswith("[") else t for t in re.findall(r"\[\d+\]|[^.\[\]]+", path)]


def with_value(task: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``task`` with ``value`` at ``path`` (objects on the way are created, rows must exist)."""
    task = copy.deepcopy(task)
    *parents, leaf = tokens(path)
    node: Any = task
    for token in parents:
        node = node[token] if isinstance(token, int) else node.setdefault(token, {})
    node[leaf] = value
    return task


def without(task: dict[str, Any], path: str) -> dict[str, Any]:
    task = copy.deepcopy(task)
    *parents, leaf = tokens(path)
    node: Any = task
    for token in parents:
        node = node[token]
    del node[leaf]
    return task


def paths(task: Any) -> list[str]:
    return [problem.parameter for problem in spec.validate(task)]


def only_problem(task: Any) -> spec.Problem:
    problems = spec.validate(task)
    assert len(problems) == 1, problems
    return problems[0]


# --- The catalogue -------------------------------------------------------------------------------------

PAGE_PATHS = {
    "taskType", "taskUUID", "model", "outputType", "outputFormat", "outputQuality", "webhookURL",
    "deliveryMethod", "uploadEndpoint", "ttl", "includeCost", "numberResults", "positivePrompt",
    "negativePrompt", "width", "height", "resolution", "fps", "seed", "steps", "scheduler", "CFGScale",
    "inputs.referenceImages", "inputs.referenceVideos", "safety.checkContent", "safety.mode",
    ACC + "cacheEndStep", ACC + "cacheEndStepPercentage", ACC + "cacheMaxConsecutiveSteps",
    ACC + "cacheStartStep", ACC + "cacheStartStepPercentage", ACC + "fbCache", ACC + "fbCacheThreshold",
    ACC + "teaCache", ACC + "teaCacheDistance", ACC + "dbCache", ACC + "dbCacheThreshold",
    ACC + "dbCacheSkipInterval", WAN + "mode", WAN + "prevSegCondFrames", WAN + "retargetPose",
    "lora", "lora[].model", "lora[].weight", "lora[].transformer",
}  # fmt: skip


def test_the_catalogue_holds_exactly_the_parameters_of_the_page() -> None:
    assert [p.path for p in spec.PARAMETERS].count("fps") == 1
    assert {p.path for p in spec.PARAMETERS} == PAGE_PATHS
    assert len(spec.PARAMETERS) == len(PAGE_PATHS)


def test_the_accelerator_has_all_twelve_options() -> None:
    assert sum(p.path.startswith(ACC) for p in spec.PARAMETERS) == 12


def test_every_parameter_has_a_label_a_description_and_a_known_group() -> None:
    groups = {group for group, _ in spec.GROUPS}
    assert groups == {"api", "inputs", "generation", "accelerator", "features", "lora", "safety"}
    for param in spec.PARAMETERS:
        assert param.label and param.description.endswith("."), param.path
        assert param.group in groups, param.path


@pytest.mark.parametrize(
    ("path", "group"),
    [
        ("taskUUID", "api"),
        ("numberResults", "api"),
        ("inputs.referenceVideos", "inputs"),
        ("seed", "generation"),
        (ACC + "dbCache", "accelerator"),
        (WAN + "retargetPose", "features"),
        ("lora[].weight", "lora"),
        ("safety.mode", "safety"),
    ],
)
def test_parameters_sit_in_the_group_a_form_shows_them_in(path: str, group: str) -> None:
    assert spec.parameter(path).group == group


@pytest.mark.parametrize(
    ("path", "default"),
    [
        ("outputType", "URL"),
        ("outputFormat", "MP4"),
        ("outputQuality", 95),
        ("deliveryMethod", "async"),
        ("safety.checkContent", False),
        ("safety.mode", "none"),
        ("includeCost", False),
        ("numberResults", 1),
        (ACC + "cacheMaxConsecutiveSteps", 3),
        (ACC + "fbCache", False),
        (ACC + "fbCacheThreshold", 0.25),
        (ACC + "teaCache", False),
        (ACC + "teaCacheDistance", 0.5),
        (ACC + "dbCache", False),
        (ACC + "dbCacheThreshold", 0.25),
        (ACC + "dbCacheSkipInterval", 5),
        ("positivePrompt", "视频中的人在做动作"),
        ("fps", 16),
        ("steps", 30),
        ("lora[].weight", 1),
        ("lora[].transformer", "both"),
        (WAN + "mode", "animate"),
        (WAN + "prevSegCondFrames", 1),
        (WAN + "retargetPose", False),
        ("seed", None),
        ("CFGScale", None),
        ("resolution", None),
    ],
)
def test_defaults_are_the_pages(path: str, default: Any) -> None:
    assert spec.parameter(path).default == default


@pytest.mark.parametrize("param", [p for p in spec.PARAMETERS if p.default is not None], ids=lambda p: p.path)
def test_every_default_is_itself_a_valid_value(param: spec.Parameter) -> None:
    path = param.path.replace("lora[]", "lora[0]")
    task = minimal_task(lora=[{"model": "civitai:1@1"}])
    assert spec.validate(with_value(task, path, param.default)) == []


@pytest.mark.parametrize(
    "path",
    ["taskType", "taskUUID", "model", "inputs.referenceImages", "inputs.referenceVideos", "lora[].model"],
)
def test_the_page_marks_these_parameters_required(path: str) -> None:
    assert spec.parameter(path).required


def test_only_the_pages_required_parameters_are_required() -> None:
    assert sum(p.required for p in spec.PARAMETERS) == 6


def test_flat_keys_are_leaf_names_and_unique_outside_lora_rows() -> None:
    keys = [p.key for p in spec.PARAMETERS if not p.path.startswith("lora[]")]
    assert len(keys) == len(set(keys))
    assert spec.parameter(WAN + "mode").key == "mode"
    assert spec.parameter("safety.mode").key == "safetyMode"
    assert spec.parameter(ACC + "cacheStartStep").key == "cacheStartStep"


def test_parameter_finds_a_lora_row_path_by_any_index() -> None:
    assert spec.parameter("lora[3].weight") is spec.parameter("lora[].weight")


def test_parameter_raises_key_error_for_a_path_the_page_does_not_have() -> None:
    with pytest.raises(KeyError):
        spec.parameter("duration")


def test_the_scheduler_list_is_the_pages_75_in_its_order() -> None:
    schedulers = spec.parameter("scheduler").choices
    assert len(schedulers) == len(set(schedulers)) == 75
    assert schedulers[:3] == ("DDIM", "DDIMScheduler", "DDPMScheduler")
    assert schedulers[-2:] == ("UniPC Uniform Exponential", "UniPC Uniform Karras")
    assert {"Euler a", "DPM++ 2M SDE Karras", "FlowMatchEulerDiscreteScheduler", "LCM"} <= set(schedulers)


# --- Dimensions ----------------------------------------------------------------------------------------

PAGE_DIMENSIONS = [
    (480, 480, "360p (1:1)"), (480, 704, "360p (15:22)"), (704, 480, "360p (22:15)"),
    (480, 832, "360p (9:16)"), (832, 480, "360p (16:9)"), (480, 1280, "720p (3:8)"),
    (1280, 480, "720p (8:3)"), (704, 704, "720p (1:1)"), (704, 832, "720p (11:13)"),
    (832, 704, "720p (13:11)"), (704, 1280, "720p (9:16)"), (1280, 704, "720p (16:9)"),
    (832, 832, "720p (1:1)"), (832, 1280, "720p (13:20)"), (1280, 832, "720p (20:13)"),
    (1280, 1280, "1080p (1:1)"),
]  # fmt: skip


def test_the_dimension_table_is_the_pages_sixteen_sizes() -> None:
    assert list(spec.DIMENSIONS) == PAGE_DIMENSIONS


@pytest.mark.parametrize(("width", "height", "label"), PAGE_DIMENSIONS)
def test_dimension_label_names_each_table_size(width: int, height: int, label: str) -> None:
    assert spec.dimension_label(width, height) == label


@pytest.mark.parametrize(("width", "height"), [(720, 1280), (1920, 1080), (480, 481), (0, 0), (512, 512)])
def test_dimension_label_is_none_for_a_size_outside_the_table(width: int, height: int) -> None:
    assert spec.dimension_label(width, height) is None


def test_every_combination_of_the_tables_sides_is_a_table_size() -> None:
    # validate checks each side on its own; that equals the pair check only while this holds.
    sides = {width for width, _, _ in spec.DIMENSIONS}
    assert {(w, h) for w in sides for h in sides} == {(w, h) for w, h, _ in spec.DIMENSIONS}


@pytest.mark.parametrize(("width", "height", "label"), PAGE_DIMENSIONS)
def test_every_table_size_is_accepted(width: int, height: int, label: str) -> None:
    assert spec.validate(minimal_task(width=width, height=height)) == []


@pytest.mark.parametrize("side", ["width", "height"])
@pytest.mark.parametrize("value", [481, 720, 1080, 1920, 0, -480])
def test_a_side_outside_the_table_is_rejected(side: str, value: int) -> None:
    problem = only_problem(minimal_task(**{"width": 480, "height": 480, side: value}))
    assert (problem.parameter, problem.code) == (side, spec.INVALID)
    assert "480, 704, 832, 1280" in problem.message


# --- Fixed values and identifiers ----------------------------------------------------------------------


def test_a_minimal_task_is_valid() -> None:
    assert spec.validate(minimal_task()) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("taskType", "imageInference"),
        ("taskType", "getResponse"),
        ("model", "runware:100@1"),
        ("model", "runware:200@8 "),
        ("outputType", "base64Data"),
        ("outputType", "dataURI"),
        ("deliveryMethod", "sync"),
    ],
)
def test_a_fixed_parameter_accepts_only_its_value(path: str, value: str) -> None:
    problem = only_problem(with_value(minimal_task(), path, value))
    assert (problem.parameter, problem.code) == (path, spec.INVALID)
    assert spec.parameter(path).choices[0] in problem.message


@pytest.mark.parametrize("value", [UUID4, UUID4.upper(), OTHER_UUID4])
def test_task_uuid_accepts_a_uuid_v4(value: str) -> None:
    assert spec.validate(with_value(minimal_task(), "taskUUID", value)) == []


@pytest.mark.parametrize(
    "value",
    [
        UUID1,
        "8c4e1b0a-3f2d-5a6b-9c8d-7e6f5a4b3c2d",  # version 5
        "8c4e1b0a-3f2d-4a6b-cc8d-7e6f5a4b3c2d",  # Microsoft variant
        "8c4e1b0a-3f2d-4a6b-7c8d-7e6f5a4b3c2d",  # NCS variant
        UUID4.replace("-", ""),
        "{" + UUID4 + "}",
        UUID4 + "\n",
        "",
        42,
        None,
    ],
)
def test_task_uuid_rejects_anything_but_a_uuid_v4(value: Any) -> None:
    problem = only_problem(with_value(minimal_task(), "taskUUID", value))
    assert (problem.parameter, problem.code) == ("taskUUID", spec.INVALID)
    assert "UUID v4" in problem.message


@pytest.mark.parametrize(
    "path", ["taskType", "taskUUID", "model", "inputs.referenceImages", "inputs.referenceVideos"]
)
def test_a_missing_required_parameter_is_named(path: str) -> None:
    problem = only_problem(without(minimal_task(), path))
    assert (problem.parameter, problem.code) == (path, spec.MISSING)
    assert problem.message == f"{path} is required."


def test_a_task_without_inputs_misses_both_reference_lists() -> None:
    assert paths(without(minimal_task(), "inputs")) == ["inputs.referenceImages", "inputs.referenceVideos"]


# --- Numbers -------------------------------------------------------------------------------------------

INTEGER_RANGES = [
    ("fps", 4, 60),
    ("steps", 2, 50),
    ("numberResults", 1, 4),
    ("outputQuality", 20, 99),
    ("seed", 0, 2**63 - 1),
    (WAN + "prevSegCondFrames", 1, 5),
    (ACC + "cacheMaxConsecutiveSteps", 1, 5),
    (ACC + "cacheStartStepPercentage", 0, 99),
    (ACC + "cacheEndStepPercentage", 1, 100),
]
INTEGER_MINIMUMS = [
    ("ttl", 60),
    (ACC + "dbCacheSkipInterval", 1),
    (ACC + "cacheStartStep", 0),
    (ACC + "cacheEndStep", 1),
]


@pytest.mark.parametrize(("path", "low", "high"), INTEGER_RANGES)
def test_an_integer_parameter_accepts_both_ends_of_its_range(path: str, low: int, high: int) -> None:
    assert spec.validate(with_value(minimal_task(), path, low)) == []
    assert spec.validate(with_value(minimal_task(), path, high)) == []


@pytest.mark.parametrize(("path", "low", "high"), INTEGER_RANGES)
def test_an_integer_parameter_rejects_values_beyond_its_range(path: str, low: int, high: int) -> None:
    for value in (low - 1, high + 1):
        problem = only_problem(with_value(minimal_task(), path, value))
        assert (problem.parameter, problem.code) == (path, spec.INVALID)
        assert problem.message == f"{path} must be an integer from {low} to {high}."


@pytest.mark.parametrize(("path", "low"), INTEGER_MINIMUMS)
def test_an_integer_with_only_a_minimum_accepts_it_and_rejects_below(path: str, low: int) -> None:
    assert spec.validate(with_value(minimal_task(), path, low)) == []
    problem = only_problem(with_value(minimal_task(), path, low - 1))
    assert (problem.parameter, problem.message) == (path, f"{path} must be an integer of at least {low}.")


@pytest.mark.parametrize(("path", "large"), [("ttl", 86_400 * 365), (ACC + "dbCacheSkipInterval", 10_000)])
def test_an_integer_with_only_a_minimum_has_no_maximum(path: str, large: int) -> None:
    assert spec.validate(with_value(minimal_task(), path, large)) == []


def test_seed_tops_out_at_the_exact_largest_signed_64_bit_integer() -> None:
    assert spec.SEED_MAX == 9223372036854775807
    # The page prints the float-rounded 9223372036854776000, which does not fit in a signed int64.
    assert paths(minimal_task(seed=9223372036854776000)) == ["seed"]


INTEGER_PATHS = [p.path for p in spec.PARAMETERS if p.type == "integer"]


@pytest.mark.parametrize("path", INTEGER_PATHS)
@pytest.mark.parametrize("value", [True, False, 16.0, 480.0, "16", None, [16]])
def test_an_integer_parameter_rejects_other_types_even_integral_floats(path: str, value: Any) -> None:
    task = minimal_task(width=480, height=480) if path in {"width", "height"} else minimal_task()
    problem = only_problem(with_value(task, path, value))
    assert (problem.parameter, problem.code) == (path, spec.INVALID)


THRESHOLDS = [ACC + "fbCacheThreshold", ACC + "teaCacheDistance", ACC + "dbCacheThreshold"]


@pytest.mark.parametrize("path", THRESHOLDS)
@pytest.mark.parametrize("value", [0, 1, 0.0, 1.0, 0.5, 0.29, 0.01, 0.99, 0.1 + 0.2, 0.57])
def test_a_threshold_accepts_hundredths_from_0_to_1(path: str, value: float) -> None:
    assert spec.validate(with_value(minimal_task(), path, value)) == []


@pytest.mark.parametrize("path", THRESHOLDS)
@pytest.mark.parametrize("value", [-0.01, 1.01, 2, 0.005, 0.123, True, "0.5", None, math.nan, math.inf])
def test_a_threshold_rejects_anything_else(path: str, value: Any) -> None:
    problem = only_problem(with_value(minimal_task(), path, value))
    assert (problem.parameter, problem.code) == (path, spec.INVALID)
    assert problem.message == f"{path} must be a number from 0 to 1 in steps of 0.01."


@pytest.mark.parametrize("value", [0, 0.0, 1, 7.5, 3.14, 0.07 * 3, 30, 1000, 1e16, 10**30])
def test_cfg_scale_accepts_any_hundredth_from_0_up(value: float) -> None:
    assert spec.validate(minimal_task(CFGScale=value)) == []


@pytest.mark.parametrize("value", [-0.01, -1, 7.555, 0.001, math.inf, -math.inf, math.nan, False, "7"])
def test_cfg_scale_rejects_negatives_finer_steps_and_non_numbers(value: Any) -> None:
    problem = only_problem(minimal_task(CFGScale=value))
    assert (problem.parameter, problem.message) == (
        "CFGScale",
        "CFGScale must be a number of at least 0 in steps of 0.01.",
    )


@pytest.mark.parametrize("value", [-4, 4, 0, -0.5, 0.8, 1, 3.99, -3.99, 2.67])
def test_lora_weight_accepts_hundredths_from_minus_4_to_4(value: float) -> None:
    assert spec.validate(minimal_task(lora=[{"model": "civitai:1@1", "weight": value}])) == []


@pytest.mark.parametrize("value", [-4.01, 4.01, 5, 0.125, "1", True, None])
def test_lora_weight_rejects_anything_else_naming_the_row(value: Any) -> None:
    task = with_value(
        minimal_task(), "lora", [{"model": "civitai:1@1"}, {"model": "civitai:2@1", "weight": value}]
    )
    problem = only_problem(task)
    assert (problem.parameter, problem.code) == ("lora[1].weight", spec.INVALID)
    assert problem.message == "lora[1].weight must be a number from -4 to 4 in steps of 0.01."


# --- Strings and booleans ------------------------------------------------------------------------------

CHOICES = [
    ("outputFormat", ["MP4", "WEBM", "MOV"], ["mp4", "GIF", "MKV", ""]),
    ("resolution", ["480p", "580p", "720p"], ["1080p", "480P", "360p", "480"]),
    ("safety.mode", ["none", "fast", "full"], ["slow", "None", ""]),
    (WAN + "mode", ["animate", "replace"], ["Animate", "swap", ""]),
    ("scheduler", ["DDIM", "Euler a", "UniPC Uniform Karras"], ["Euler A", "euler", "DDIM ", ""]),
]


@pytest.mark.parametrize(("path", "allowed", "refused"), CHOICES)
def test_a_parameter_with_allowed_values_accepts_exactly_those(
    path: str, allowed: list, refused: list
) -> None:
    assert set(allowed) <= set(spec.parameter(path).choices)
    for value in allowed:
        assert spec.validate(with_value(minimal_task(), path, value)) == []
    for value in [*refused, 1, None]:
        problem = only_problem(with_value(minimal_task(), path, value))
        assert (problem.parameter, problem.code) == (path, spec.INVALID)


def test_a_refused_value_message_lists_the_allowed_ones() -> None:
    assert (
        only_problem(minimal_task(outputFormat="GIF")).message
        == "outputFormat must be one of MP4, WEBM, MOV."
    )


@pytest.mark.parametrize("value", ["high", "low", "both"])
def test_lora_transformer_accepts_high_low_or_both(value: str) -> None:
    assert spec.validate(minimal_task(lora=[{"model": "civitai:1@1", "transformer": value}])) == []


@pytest.mark.parametrize("value", ["mid", "HIGH", "", 1])
def test_lora_transformer_rejects_other_stages(value: Any) -> None:
    problem = only_problem(
        with_value(minimal_task(), "lora", [{"model": "civitai:1@1", "transformer": value}])
    )
    assert (problem.parameter, problem.code) == ("lora[0].transformer", spec.INVALID)


@pytest.mark.parametrize("path", ["positivePrompt", "negativePrompt"])
@pytest.mark.parametrize("value", ["a", "x" * 2000, "视" * 2000, "dancing in the rain, 4k"])
def test_a_prompt_accepts_1_to_2000_characters(path: str, value: str) -> None:
    assert spec.validate(with_value(minimal_task(), path, value)) == []


@pytest.mark.parametrize("path", ["positivePrompt", "negativePrompt"])
@pytest.mark.parametrize("value", ["", "x" * 2001, "视" * 2001, 5, None, ["a prompt"]])
def test_a_prompt_rejects_empty_or_too_long_text(path: str, value: Any) -> None:
    problem = only_problem(with_value(minimal_task(), path, value))
    assert (problem.parameter, problem.message) == (path, f"{path} must be text of 1 to 2000 characters.")


BOOLEANS = [p.path for p in spec.PARAMETERS if p.type == "boolean"]


def test_the_page_has_six_boolean_parameters() -> None:
    assert len(BOOLEANS) == 6


@pytest.mark.parametrize("path", BOOLEANS)
def test_a_boolean_accepts_true_and_false(path: str) -> None:
    assert spec.validate(with_value(minimal_task(), path, True)) == []
    assert spec.validate(with_value(minimal_task(), path, False)) == []


@pytest.mark.parametrize("path", BOOLEANS)
@pytest.mark.parametrize("value", [1, 0, "true", None])
def test_a_boolean_rejects_lookalikes(path: str, value: Any) -> None:
    problem = only_problem(with_value(minimal_task(), path, value))
    assert (problem.parameter, problem.message) == (path, f"{path} must be true or false.")


@pytest.mark.parametrize("path", ["webhookURL", "uploadEndpoint"])
@pytest.mark.parametrize(
    "value",
    [
        "https://app.example.com/hooks/runware?token=abc123",
        "http://127.0.0.1:8000/sandbox/hook",
        "https://your-bucket.s3.amazonaws.com/generated/content.mp4?X-Amz-Signature=abc123&X-Amz-Expires=3600",
        "HTTPS://EXAMPLE.COM/",
        "https://[::1]:8443/hook",
    ],
)
def test_a_uri_parameter_accepts_absolute_http_urls(path: str, value: str) -> None:
    assert spec.validate(with_value(minimal_task(), path, value)) == []


@pytest.mark.parametrize("path", ["webhookURL", "uploadEndpoint"])
@pytest.mark.parametrize(
    "value",
    [
        "ftp://example.com/upload",
        "/hooks/runware",
        "app.example.com/hook",
        "https://",
        "https:///path-only",
        "https://exa mple.com/hook",
        "https://example.com/\x00",
        "https://example.com:99999/",
        "https://[::1/hook",
        "javascript:alert(1)",
        "",
        42,
        None,
    ],
)
def test_a_uri_parameter_rejects_anything_else(path: str, value: Any) -> None:
    problem = only_problem(with_value(minimal_task(), path, value))
    assert (problem.parameter, problem.message) == (path, f"{path} must be an absolute http(s) URL.")


# --- Reference inputs ----------------------------------------------------------------------------------

GOOD_IMAGES = [OTHER_UUID4, UUID1, IMAGE, f"data:image/png;base64,{PNG_B64}", PNG_B64]
GOOD_VIDEOS = [OTHER_UUID4, VIDEO, "http://127.0.0.1:8000/media/signed/abc.mp4?exp=1&sig=2"]


@pytest.mark.parametrize("item", GOOD_IMAGES)
def test_a_reference_image_may_be_a_uuid_url_data_uri_or_base64(item: str) -> None:
    assert spec.validate(minimal_task(referenceImages=[item])) == []


@pytest.mark.parametrize("item", GOOD_VIDEOS)
def test_a_reference_video_may_be_a_uuid_or_url(item: str) -> None:
    assert spec.validate(minimal_task(referenceVideos=[item])) == []


def test_reference_lists_may_hold_several_items() -> None:
    assert spec.validate(minimal_task(referenceImages=GOOD_IMAGES, referenceVideos=GOOD_VIDEOS)) == []


BAD_ITEMS = [
    "not base64!",
    "abc",
    "AAAA====",
    "AA=A",
    "====",
    "ftp://example.com/a.png",
    "data:image/png;base64,not base64!",
    "data:image/png,raw-bytes",
    " " + IMAGE,
    7,
    None,
    ["nested"],
]


@pytest.mark.parametrize("item", BAD_ITEMS)
def test_a_bad_reference_image_is_named_by_its_index(item: Any) -> None:
    problem = only_problem(minimal_task(referenceImages=[IMAGE, item]))
    assert (problem.parameter, problem.code) == ("inputs.referenceImages[1]", spec.INVALID)
    assert problem.message == (
        "inputs.referenceImages[1] must be a UUID, an http(s) URL, a data URI or base64 data."
    )


@pytest.mark.parametrize("item", [*BAD_ITEMS, f"data:video/mp4;base64,{PNG_B64}", PNG_B64])
def test_a_reference_video_that_is_not_a_uuid_or_url_is_named_by_its_index(item: Any) -> None:
    problem = only_problem(minimal_task(referenceVideos=[item]))
    assert (problem.parameter, problem.message) == (
        "inputs.referenceVideos[0]",
        "inputs.referenceVideos[0] must be a UUID or an http(s) URL.",
    )


def test_an_empty_reference_string_is_rejected_even_though_build_task_keeps_list_items() -> None:
    assert paths(minimal_task(referenceImages=[""])) == ["inputs.referenceImages[0]"]


def test_every_bad_reference_item_is_reported() -> None:
    task = minimal_task(referenceImages=["bad!", IMAGE, "worse!"], referenceVideos=[PNG_B64])
    expected = ["inputs.referenceImages[0]", "inputs.referenceImages[2]", "inputs.referenceVideos[0]"]
    assert paths(task) == expected


@pytest.mark.parametrize("path", ["inputs.referenceImages", "inputs.referenceVideos"])
@pytest.mark.parametrize("value", [[], IMAGE, {"url": IMAGE}, None])
def test_a_reference_list_must_be_a_non_empty_list(path: str, value: Any) -> None:
    problem = only_problem(with_value(minimal_task(), path, value))
    assert (problem.parameter, problem.code) == (path, spec.INVALID)
    assert problem.message.startswith(f"{path} must be a list of at least one item, each ")


# --- Combinations --------------------------------------------------------------------------------------


@pytest.mark.parametrize("sizes", [{"width": 480, "height": 480}, {"width": 480}, {"height": 832}])
def test_resolution_cannot_be_used_with_width_or_height(sizes: dict[str, int]) -> None:
    problems = spec.validate(minimal_task(resolution="480p", **sizes))
    assert ("resolution", spec.INCOMPATIBLE) in [(p.parameter, p.code) for p in problems]


@pytest.mark.parametrize(("given", "missing"), [("width", "height"), ("height", "width")])
def test_width_and_height_must_come_together(given: str, missing: str) -> None:
    problem = only_problem(minimal_task(**{given: 480}))
    assert (problem.parameter, problem.code) == (missing, spec.MISSING)
    assert problem.message == f"{missing} must be given together with {given}."


@pytest.mark.parametrize(
    "choices",
    [
        {},
        {"resolution": "720p"},
        {"width": 832, "height": 480},
    ],
)
def test_the_output_size_may_come_from_the_inputs_a_resolution_or_a_table_size(choices: dict) -> None:
    assert spec.validate(minimal_task(**choices)) == []


@pytest.mark.parametrize(
    "choices",
    [
        {"cacheStartStep": 2, "cacheEndStep": 20},
        {"cacheStartStep": 0, "cacheEndStep": 1},
        {"cacheEndStep": 30},
        {"cacheStartStep": 29},
        {"steps": 10, "cacheEndStep": 10},
        {"steps": 10, "cacheStartStep": 9},
        {"steps": 50, "cacheStartStep": 40, "cacheEndStep": 50},
    ],
)
def test_cache_steps_run_from_start_below_end_up_to_steps(choices: dict) -> None:
    assert spec.validate(minimal_task(**choices)) == []


@pytest.mark.parametrize(
    ("choices", "path", "message"),
    [
        ({"cacheEndStep": 31}, ACC + "cacheEndStep", "must be at most steps (30, its default)."),
        ({"steps": 10, "cacheEndStep": 11}, ACC + "cacheEndStep", "must be at most steps (10)."),
        (
            {"cacheStartStep": 5, "cacheEndStep": 5},
            ACC + "cacheStartStep",
            "must be less than cacheEndStep (5).",
        ),
        (
            {"cacheStartStep": 9, "cacheEndStep": 3},
            ACC + "cacheStartStep",
            "must be less than cacheEndStep (3).",
        ),
        ({"cacheStartStep": 30}, ACC + "cacheStartStep", "must be less than steps (30, its default)."),
        ({"steps": 10, "cacheStartStep": 10}, ACC + "cacheStartStep", "must be less than steps (10)."),
    ],
)
def test_cache_steps_out_of_order_or_past_steps_are_incompatible(
    choices: dict, path: str, message: str
) -> None:
    problem = only_problem(minimal_task(**choices))
    assert (problem.parameter, problem.code, problem.message) == (
        path,
        spec.INCOMPATIBLE,
        f"{path} {message}",
    )


def test_a_cache_window_past_steps_and_reversed_reports_both() -> None:
    task = minimal_task(steps=10, cacheStartStep=20, cacheEndStep=15)
    assert paths(task) == [ACC + "cacheEndStep", ACC + "cacheStartStep"]


def test_an_invalid_steps_is_reported_alone_not_again_through_the_cache_window() -> None:
    assert paths(minimal_task(steps=51, cacheStartStep=40, cacheEndStep=45)) == ["steps"]


def test_an_invalid_cache_end_is_reported_alone_not_again_through_the_start() -> None:
    assert paths(minimal_task(cacheStartStep=4, cacheEndStep=0)) == [ACC + "cacheEndStep"]


@pytest.mark.parametrize(
    "choices",
    [
        {"cacheStartStepPercentage": 10, "cacheEndStepPercentage": 90},
        {"cacheStartStepPercentage": 99, "cacheEndStepPercentage": 100},
        {"cacheStartStepPercentage": 99},
        {"cacheEndStepPercentage": 1},
    ],
)
def test_cache_percentages_run_from_start_below_end(choices: dict) -> None:
    assert spec.validate(minimal_task(**choices)) == []


@pytest.mark.parametrize(("start", "end"), [(50, 50), (60, 40), (1, 1), (99, 1)])
def test_cache_percentages_out_of_order_are_incompatible(start: int, end: int) -> None:
    problem = only_problem(minimal_task(cacheStartStepPercentage=start, cacheEndStepPercentage=end))
    assert (problem.parameter, problem.code) == (ACC + "cacheStartStepPercentage", spec.INCOMPATIBLE)
    assert problem.message.endswith(f"must be less than cacheEndStepPercentage ({end}).")


@pytest.mark.parametrize(
    "choices",
    [
        {"retargetPose": True},
        {"retargetPose": True, "mode": "animate"},
        {"retargetPose": False, "mode": "replace"},
    ],
)
def test_retarget_pose_is_fine_in_animate_mode_or_when_off(choices: dict) -> None:
    assert spec.validate(minimal_task(**choices)) == []


def test_retarget_pose_is_refused_in_replace_mode() -> None:
    problem = only_problem(minimal_task(retargetPose=True, mode="replace"))
    assert (problem.parameter, problem.code) == (WAN + "retargetPose", spec.INCOMPATIBLE)
    assert "animate mode" in problem.message


def test_retarget_pose_with_an_invalid_mode_reports_only_the_mode() -> None:
    assert paths(minimal_task(retargetPose=True, mode="swap")) == [WAN + "mode"]


# --- Shape: unknown parameters, objects, lora rows -----------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "duration",
        "inputs.frameImages",
        "inputs.referenceAudios",
        ACC + "magicCache",
        "advancedFeatures.upscale",
        WAN + "strength",
        "safety.level",
        "lora[0].scale",
        "lora[0].lora",
    ],
)
def test_an_unknown_parameter_is_named_by_its_full_path(path: str) -> None:
    problem = only_problem(with_value(minimal_task(lora=[{"model": "civitai:1@1"}]), path, 1))
    assert (problem.parameter, problem.code) == (path, spec.UNKNOWN)
    assert problem.message == f"{path} is not a parameter of runware:200@8."


def test_the_lora_row_placeholder_is_not_a_key_a_task_may_use() -> None:
    task = minimal_task()
    task["lora[]"] = {"model": "civitai:1@1"}
    assert [(p.parameter, p.code) for p in spec.validate(task)] == [("lora[]", spec.UNKNOWN)]


@pytest.mark.parametrize(
    "path", ["inputs", "safety", "acceleratorOptions", "advancedFeatures", "advancedFeatures.wanAnimate"]
)
@pytest.mark.parametrize("value", ["x", [], None, 3])
def test_an_object_parameter_must_be_an_object(path: str, value: Any) -> None:
    problems = spec.validate(with_value(minimal_task(), path, value))
    assert problems[0] == spec.Problem(path, f"{path} must be an object.", spec.INVALID)
    # Only the reference lists go missing with inputs, because they are the only required members.
    assert {p.parameter for p in problems[1:]} <= {"inputs.referenceImages", "inputs.referenceVideos"}


def test_empty_objects_are_fine() -> None:
    task = minimal_task(safety={}, acceleratorOptions={})
    task["advancedFeatures"] = {"wanAnimate": {}}
    assert spec.validate(task) == []


@pytest.mark.parametrize("value", ["civitai:1@1", {"model": "civitai:1@1"}, 3])
def test_lora_must_be_a_list(value: Any) -> None:
    problem = only_problem(with_value(minimal_task(), "lora", value))
    assert (problem.parameter, problem.message) == ("lora", "lora must be a list of objects.")


def test_an_empty_lora_list_is_fine() -> None:
    assert spec.validate(with_value(minimal_task(), "lora", [])) == []


def test_a_lora_row_that_is_not_an_object_is_named() -> None:
    problem = only_problem(with_value(minimal_task(), "lora", [{"model": "civitai:1@1"}, "civitai:2@1"]))
    assert (problem.parameter, problem.code) == ("lora[1]", spec.INVALID)


@pytest.mark.parametrize(
    ("row", "code"),
    [({"weight": 0.5}, spec.MISSING), ({"model": ""}, spec.INVALID), ({"model": 5}, spec.INVALID)],
)
def test_each_lora_row_needs_a_model(row: dict, code: str) -> None:
    problem = only_problem(with_value(minimal_task(), "lora", [{"model": "civitai:1@1"}, row]))
    assert (problem.parameter, problem.code) == ("lora[1].model", code)


def test_every_problem_is_reported_at_once() -> None:
    task = minimal_task(fps=3, outputFormat="GIF", lora=[{"weight": 9}], mode="replace", retargetPose=True)
    task["inputs"]["extra"] = 1
    task["taskUUID"] = "nope"
    # In the order the task holds them, combination rules last.
    assert [(p.parameter, p.code) for p in spec.validate(task)] == [
        ("taskUUID", spec.INVALID),
        ("inputs.extra", spec.UNKNOWN),
        ("fps", spec.INVALID),
        ("outputFormat", spec.INVALID),
        ("lora[0].weight", spec.INVALID),
        ("lora[0].model", spec.MISSING),
        (WAN + "retargetPose", spec.INCOMPATIBLE),
    ]


@pytest.mark.parametrize("task", [None, [], [{"taskType": "videoInference"}], "task", 3, 2.5, True])
def test_a_task_that_is_not_an_object_is_one_problem_with_an_empty_path(task: Any) -> None:
    assert spec.validate(task) == [spec.Problem("", "The task must be a JSON object.", spec.INVALID)]


def test_a_problem_is_frozen() -> None:
    problem = spec.Problem("fps", "fps must be an integer from 4 to 60.", spec.INVALID)
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.code = spec.MISSING  # type: ignore[misc]


def test_every_problem_code_is_documented() -> None:
    assert set(spec.ERROR_CODES) == {spec.MISSING, spec.UNKNOWN, spec.INVALID, spec.INCOMPATIBLE}


def test_a_huge_integer_anywhere_does_not_break_validation() -> None:
    huge = 10**5000
    task = minimal_task(fps=huge, CFGScale=huge, lora=[{"model": "m", "weight": huge}], ttl=huge)
    assert paths(task) == ["fps", "lora[0].weight"]


# --- build_task and flatten_task -----------------------------------------------------------------------


def test_build_task_always_sends_the_fixed_values_and_a_fresh_uuid_v4() -> None:
    first, second = spec.build_task({}), spec.build_task({})
    for task in (first, second):
        assert task["taskType"] == "videoInference"
        assert task["model"] == "runware:200@8"
        assert task["deliveryMethod"] == "async"
        assert task["outputType"] == "URL"
        assert uuid.UUID(task["taskUUID"]).version == 4
    assert first["taskUUID"] != second["taskUUID"]


def test_build_task_uses_the_given_task_uuid_over_everything() -> None:
    assert spec.build_task({"taskUUID": str(uuid.uuid4())}, task_uuid=UUID4)["taskUUID"] == UUID4


def test_build_task_takes_a_task_uuid_from_the_choices_without_the_argument() -> None:
    assert spec.build_task({"taskUUID": UUID4})["taskUUID"] == UUID4


def test_build_task_nests_flat_choices_where_runware_expects_them() -> None:
    choices = {
        "referenceImages": [IMAGE],
        "referenceVideos": [VIDEO],
        "mode": "replace",
        "prevSegCondFrames": 2,
        "safetyMode": "full",
        "checkContent": True,
        "cacheStartStep": 2,
        "teaCache": True,
        "resolution": "480p",
        "fps": 16,
        "includeCost": True,
        "lora": [{"model": "civitai:1@1", "weight": 0.8, "transformer": "low"}],
    }
    assert spec.build_task(choices, task_uuid=UUID4) == {
        "taskType": "videoInference",
        "taskUUID": UUID4,
        "model": "runware:200@8",
        "deliveryMethod": "async",
        "outputType": "URL",
        "inputs": {"referenceImages": [IMAGE], "referenceVideos": [VIDEO]},
        "advancedFeatures": {"wanAnimate": {"mode": "replace", "prevSegCondFrames": 2}},
        "safety": {"mode": "full", "checkContent": True},
        "acceleratorOptions": {"cacheStartStep": 2, "teaCache": True},
        "resolution": "480p",
        "fps": 16,
        "includeCost": True,
        "lora": [{"model": "civitai:1@1", "weight": 0.8, "transformer": "low"}],
    }


def test_build_task_accepts_nested_choices_as_well_as_flat_ones() -> None:
    nested = {
        "inputs": {"referenceImages": [IMAGE], "referenceVideos": [VIDEO]},
        "advancedFeatures": {"wanAnimate": {"mode": "replace"}},
        "safety": {"mode": "fast"},
        "acceleratorOptions": {"cacheEndStep": 20},
    }
    flat = {
        "referenceImages": [IMAGE],
        "referenceVideos": [VIDEO],
        "mode": "replace",
        "safetyMode": "fast",
        "cacheEndStep": 20,
    }
    assert spec.build_task(nested, task_uuid=UUID4) == spec.build_task(flat, task_uuid=UUID4)


@pytest.mark.parametrize("unset", [None, "", []])
def test_build_task_leaves_out_what_was_not_set(unset: Any) -> None:
    choices = {"seed": unset, "negativePrompt": unset, "cacheStartStep": unset, "mode": unset, "lora": unset}
    assert spec.build_task(choices, task_uuid=UUID4) == spec.build_task({}, task_uuid=UUID4)


def test_build_task_leaves_out_unset_nested_choices_and_empty_objects() -> None:
    task = spec.build_task({"safety": {"mode": None}, "advancedFeatures": {"wanAnimate": {"mode": ""}}})
    assert "safety" not in task and "advancedFeatures" not in task


def test_build_task_drops_unset_lora_fields_and_blank_rows() -> None:
    lora = [{"model": "civitai:1@1", "weight": None, "transformer": ""}, {"model": "", "weight": None}]
    assert spec.build_task({"lora": lora})["lora"] == [{"model": "civitai:1@1"}]


def test_build_task_keeps_zero_and_false_because_they_are_set() -> None:
    task = spec.build_task({"seed": 0, "fbCache": False, "CFGScale": 0})
    assert (task["seed"], task["acceleratorOptions"]["fbCache"], task["CFGScale"]) == (0, False, 0)


def test_build_task_copies_unknown_choices_to_the_top_level_for_validate_to_name() -> None:
    task = spec.build_task({"referenceImages": [IMAGE], "referenceVideos": [VIDEO], "duration": 5})
    assert task["duration"] == 5
    assert paths(task) == ["duration"]


def test_build_task_lets_a_choice_override_a_fixed_value_for_validate_to_judge() -> None:
    task = spec.build_task({"referenceImages": [IMAGE], "referenceVideos": [VIDEO], "model": "runware:1@1"})
    assert paths(task) == ["model"]


def test_build_task_replaces_a_non_object_container_when_a_member_is_set_later() -> None:
    task = spec.build_task({"inputs": "oops", "referenceImages": [IMAGE]})
    assert task["inputs"] == {"referenceImages": [IMAGE]}


def test_build_task_does_not_share_lists_with_the_choices() -> None:
    images = [IMAGE]
    task = spec.build_task({"referenceImages": images})
    images.append("changed later")
    assert task["inputs"]["referenceImages"] == [IMAGE]


def test_flatten_task_gives_the_flat_choices_without_what_build_task_adds() -> None:
    task = minimal_task(mode="replace", safetyMode="fast", cacheEndStep=20, lora=[{"model": "civitai:1@1"}])
    assert spec.flatten_task(task) == {
        "referenceImages": [IMAGE],
        "referenceVideos": [VIDEO],
        "mode": "replace",
        "safetyMode": "fast",
        "cacheEndStep": 20,
        "lora": [{"model": "civitai:1@1"}],
    }


def test_flatten_task_does_not_share_lists_with_the_task() -> None:
    task = minimal_task()
    spec.flatten_task(task)["referenceImages"].append("changed later")
    assert task["inputs"]["referenceImages"] == [IMAGE]


@pytest.mark.parametrize(
    ("task", "message"),
    [
        ({"duration": 5}, "duration is not a parameter of runware:200@8"),
        ({"inputs": {"frameImages": []}}, "inputs.frameImages is not a parameter of runware:200@8"),
        ({"safety": "fast"}, "safety must be an object"),
        ([], "a task must be a JSON object"),
    ],
)
def test_flatten_task_refuses_what_it_cannot_represent(task: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        spec.flatten_task(task)


# --- Properties ----------------------------------------------------------------------------------------

ITEMS = {
    "uuid": st.uuids().map(str),
    "url": st.from_regex(r"https?://[a-z]{1,12}\.example/[a-z0-9/]{0,12}", fullmatch=True),
    "data-uri": st.binary(min_size=1, max_size=24).map(
        lambda b: f"data:image/png;base64,{base64.b64encode(b).decode()}"
    ),
    "base64": st.binary(min_size=1, max_size=24).map(lambda b: base64.b64encode(b).decode()),
}


def values(param: spec.Parameter) -> st.SearchStrategy[Any]:
    """Valid values of one parameter, read from its catalogue entry."""
    if param.type == "boolean":
        return st.booleans()
    if param.type == "string[]":
        return st.lists(st.one_of([ITEMS[kind] for kind in param.accepts]), min_size=1, max_size=3)
    if param.type == "object[]":
        rows = st.fixed_dictionaries(
            {"model": values(spec.parameter("lora[].model"))},
            optional={
                "weight": values(spec.parameter("lora[].weight")),
                "transformer": values(spec.parameter("lora[].transformer")),
            },
        )
        return st.lists(rows, min_size=1, max_size=3)
    if param.choices:
        return st.sampled_from(param.choices)
    if param.format == "uuid4":
        return st.uuids(version=4).map(str)
    if param.format == "uri":
        return ITEMS["url"]
    if param.type == "string":
        return st.text(min_size=param.min_length or 0, max_size=min(param.max_length or 40, 40))
    top = param.maximum if param.maximum is not None else param.minimum + 1000
    if param.type == "integer":
        return st.integers(param.minimum, top)
    return st.integers(round(param.minimum * 100), round(top * 100)).map(lambda hundredths: hundredths / 100)


# Parameters whose valid values depend on others; valid_choices draws them together.
LINKED = {
    "width",
    "height",
    "resolution",
    "steps",
    ACC + "cacheStartStep",
    ACC + "cacheEndStep",
    ACC + "cacheStartStepPercentage",
    ACC + "cacheEndStepPercentage",
    WAN + "mode",
    WAN + "retargetPose",
}
FREE = [p for p in spec.PARAMETERS if p.path not in LINKED and not p.path.startswith("lora[]")]
FREE_CHOICES = st.fixed_dictionaries(
    {p.key: values(p) for p in FREE if p.required},
    optional={p.key: st.none() | values(p) for p in FREE if not p.required},
)


@st.composite
def valid_choices(draw: st.DrawFn) -> dict[str, Any]:
    choices = draw(FREE_CHOICES)
    size = draw(st.sampled_from(["inputs", "resolution", "table"]))
    if size == "resolution":
        choices["resolution"] = draw(values(spec.parameter("resolution")))
    elif size == "table":
        choices["width"], choices["height"], _ = draw(st.sampled_from(spec.DIMENSIONS))
    choices["steps"] = draw(st.none() | values(spec.parameter("steps")))
    limit = choices["steps"] or spec.STEPS_DEFAULT
    choices["cacheEndStep"] = draw(st.none() | st.integers(1, limit))
    choices["cacheStartStep"] = draw(st.none() | st.integers(0, (choices["cacheEndStep"] or limit) - 1))
    choices["cacheEndStepPercentage"] = draw(st.none() | st.integers(1, 100))
    choices["cacheStartStepPercentage"] = draw(
        st.none() | st.integers(0, (choices["cacheEndStepPercentage"] or 100) - 1)
    )
    choices["mode"] = draw(st.none() | values(spec.parameter(WAN + "mode")))
    choices["retargetPose"] = draw(st.none() | st.booleans()) if choices["mode"] != "replace" else False
    return choices


@PROPERTY
@given(valid_choices(), st.uuids(version=4).map(str))
def test_any_task_built_from_valid_choices_is_valid(choices: dict[str, Any], task_uuid: str) -> None:
    assert spec.validate(spec.build_task(choices, task_uuid=task_uuid)) == []


@PROPERTY
@given(valid_choices())
def test_flatten_task_and_build_task_round_trip(choices: dict[str, Any]) -> None:
    task = spec.build_task(choices)
    assert spec.build_task(spec.flatten_task(task), task_uuid=task["taskUUID"]) == task


def invalid_values(param: spec.Parameter) -> list[Any]:
    """Values each parameter must refuse on its own, read from its catalogue entry."""
    bad: list[Any] = [{"an": "object"}, None]
    if param.type in {"integer", "float"}:
        unit = 1 if param.type == "integer" else param.step
        bad += ["7", True]
        if param.minimum is not None:
            bad.append(param.minimum - unit)
        if param.maximum is not None:
            bad.append(param.maximum + unit)
        if param.type == "integer":
            bad.append(float(param.choices[0] if param.choices else param.minimum))
            bad += [param.choices[0] + 1] if param.choices else []
        else:
            bad += [param.minimum + param.step / 2, math.nan]
    elif param.type == "boolean":
        bad += ["true", 1]
    elif param.type == "string":
        bad.append(7)
        bad += [param.choices[0] + "x"] if param.choices else []
        bad += [""] if param.min_length else []
        bad += ["x" * (param.max_length + 1)] if param.max_length else []
        bad += {"uuid4": [UUID1, "not-a-uuid"], "uri": ["ftp://example.com/a", "/a"]}.get(
            param.format or "", []
        )
    elif param.type == "string[]":
        bad += [[], IMAGE]
    else:
        bad += ["civitai:1@1", {"model": "civitai:1@1"}]
    return bad


def mutations(task: dict[str, Any]) -> list[tuple[str, Any]]:
    """(path, value) pairs, each making exactly the thing at path invalid."""
    found = []
    for param in spec.PARAMETERS:
        if param.path.startswith("lora[]"):
            rows = task.get("lora", [])
            found += [
                (param.path.replace("[]", f"[{index}]"), value)
                for index, row in enumerate(rows)
                if param.name in row
                for value in invalid_values(param)
            ]
            continue
        try:
            current = _lookup(task, param.path)
        except KeyError:
            continue
        found += [(param.path, value) for value in invalid_values(param)]
        if param.type == "string[]":
            bad_items = ["", 7, "not valid!"] + (["AAAA"] if "base64" not in param.accepts else [])
            found += [(f"{param.path}[{i}]", value) for i in range(len(current)) for value in bad_items]
    found += [(f"lora[{i}]", "civitai:1@1") for i in range(len(task.get("lora", [])))]
    return found


def _lookup(task: dict[str, Any], path: str) -> Any:
    node: Any = task
    for token in tokens(path):
        node = node[token]
    return node


@PROPERTY
@given(valid_choices(), st.data())
def test_one_invalid_value_is_reported_at_exactly_its_path(
    choices: dict[str, Any], data: st.DataObject
) -> None:
    task = spec.build_task(choices)
    path, value = data.draw(st.sampled_from(mutations(task)))
    problems = spec.validate(with_value(task, path, value))
    assert problems and {p.parameter for p in problems} == {path}
    assert all(p.code == spec.INVALID for p in problems)


@PROPERTY
@given(valid_choices(), st.data())
def test_one_removed_required_value_is_reported_missing_at_exactly_its_path(
    choices: dict[str, Any], data: st.DataObject
) -> None:
    task = spec.build_task(choices)
    required = ["taskType", "taskUUID", "model", "inputs.referenceImages", "inputs.referenceVideos"]
    required += [f"lora[{i}].model" for i in range(len(task.get("lora", [])))]
    path = data.draw(st.sampled_from(required))
    assert spec.validate(without(task, path)) == [spec.Problem(path, f"{path} is required.", spec.MISSING)]


@PROPERTY
@given(valid_choices(), st.data())
def test_one_unknown_key_is_reported_at_exactly_its_path(
    choices: dict[str, Any], data: st.DataObject
) -> None:
    task = spec.build_task({**choices, "safety": {}, "acceleratorOptions": {}})
    containers = ["", "inputs", "safety", "acceleratorOptions", "advancedFeatures"]
    containers += [f"lora[{i}]" for i in range(len(task.get("lora", [])))]
    container = data.draw(st.sampled_from(containers))
    path = f"{container}.unexpected" if container else "unexpected"
    if container == "advancedFeatures":
        task.setdefault("advancedFeatures", {})
    problems = spec.validate(with_value(task, path, 1))
    assert [(p.parameter, p.code) for p in problems] == [(path, spec.UNKNOWN)]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@PROPERTY
@given(JSON)
def test_validate_never_raises_on_any_json_value(value: Any) -> None:
    assert all(isinstance(problem, spec.Problem) for problem in spec.validate(value))


@PROPERTY
@given(valid_choices(), st.sampled_from([*sorted(PAGE_PATHS - {"lora"}), "inputs", "safety", "lora"]), JSON)
def test_validate_never_raises_whatever_any_parameter_holds(
    choices: dict[str, Any], path: str, value: Any
) -> None:
    task = spec.build_task({**choices, "lora": [{"model": "civitai:1@1"}]})
    problems = spec.validate(with_value(task, path.replace("lora[]", "lora[0]"), value))
    assert all(problem.code in spec.ERROR_CODES for problem in problems)


# --- Results -------------------------------------------------------------------------------------------

TASK_UUID = "24cd5dff-cb81-4db5-8506-b72a9425f9d1"
VIDEO_UUID = "b7db282d-2943-4f12-992f-77df3ad3ec71"
SUCCESS = {
    "taskType": "videoInference",
    "taskUUID": TASK_UUID,
    "status": "success",
    "videoUUID": VIDEO_UUID,
    "videoURL": "https://im.runware.ai/video/ws/0.5/vi/b7db282d.mp4",
    "seed": 4294967295,
    "NSFWContent": False,
    "cost": 0.18,
}
PROVIDER_ERROR = {
    "code": "timeoutProvider",
    "status": "error",
    "message": "The external provider did not respond within the timeout window.",
    "documentation": "https://runware.ai/docs/en/video-inference/api-reference",
    "taskUUID": TASK_UUID,
}


def test_a_success_item_is_read_field_by_field() -> None:
    result = spec.parse_result(SUCCESS)
    assert result == spec.VideoResult(
        task_type="videoInference",
        task_uuid=TASK_UUID,
        status="success",
        video_uuid=VIDEO_UUID,
        video_url=SUCCESS["videoURL"],
        seed=4294967295,
        nsfw_content=False,
        cost=Decimal("0.18"),
    )
    assert result.raw is SUCCESS


def test_base64_and_data_uri_outputs_are_read() -> None:
    item = {**SUCCESS, "videoBase64Data": "AAAA", "videoDataURI": "data:video/mp4;base64,AAAA"}
    result = spec.parse_result(item)
    assert (result.video_base64_data, result.video_data_uri) == ("AAAA", "data:video/mp4;base64,AAAA")


@pytest.mark.parametrize(
    ("cost", "expected"),
    [(0.18, "0.1800"), (0.1 + 0.2, "0.3000"), (0.00005, "0.0001"), (2, "2.0000"), (0, "0.0000")],
)
def test_cost_becomes_a_decimal_at_the_ledgers_precision(cost: Any, expected: str) -> None:
    assert str(spec.parse_result({**SUCCESS, "cost": cost}).cost) == expected


@pytest.mark.parametrize("cost", [None, True, "0.18", -0.01, math.nan, math.inf, [0.18]])
def test_a_missing_or_malformed_cost_is_none(cost: Any) -> None:
    assert spec.parse_result({**SUCCESS, "cost": cost}).cost is None


@pytest.mark.parametrize(
    ("field", "value"),
    [("seed", True), ("seed", 1.5), ("seed", "7"), ("NSFWContent", "false"), ("NSFWContent", 0)],
)
def test_malformed_optional_fields_are_none(field: str, value: Any) -> None:
    result = spec.parse_result({**SUCCESS, field: value})
    assert (result.seed if field == "seed" else result.nsfw_content) is None


def test_nsfw_flag_is_read() -> None:
    assert spec.parse_result({**SUCCESS, "NSFWContent": True}).nsfw_content is True


def test_a_success_without_a_status_is_recognised_by_its_video_uuid() -> None:
    item = {key: value for key, value in SUCCESS.items() if key != "status"}
    assert spec.parse_result(item).status == "success"


def test_a_processing_item_is_read() -> None:
    result = spec.parse_result({"taskType": "videoInference", "taskUUID": TASK_UUID, "status": "processing"})
    assert (result.status, result.video_uuid, result.cost) == ("processing", None, None)


def test_the_async_acknowledgement_reads_as_processing() -> None:
    assert spec.parse_result({"taskType": "videoInference", "taskUUID": TASK_UUID}).status == "processing"


def test_an_errors_item_is_read_as_an_error() -> None:
    result = spec.parse_result(PROVIDER_ERROR)
    assert (result.status, result.error_code, result.error_message) == (
        "error",
        "timeoutProvider",
        PROVIDER_ERROR["message"],
    )
    assert result.task_type is None


def test_an_errors_item_without_a_status_is_still_an_error() -> None:
    item = {"code": "invalidParameter", "message": "bad", "parameter": "fps", "taskUUID": TASK_UUID}
    assert spec.parse_result(item).status == "error"


def test_a_data_item_with_a_nested_error_is_read_as_an_error() -> None:
    item = {
        "taskType": "videoInference",
        "taskUUID": TASK_UUID,
        "status": "error",
        "error": {"code": "inferenceError", "message": "The model failed."},
    }
    result = spec.parse_result(item)
    assert (result.status, result.error_code, result.error_message) == (
        "error",
        "inferenceError",
        "The model failed.",
    )


def test_a_nested_error_without_a_status_is_an_error() -> None:
    item = {"taskUUID": TASK_UUID, "error": {"code": "inferenceError"}}
    assert spec.parse_result(item).status == "error"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ([SUCCESS], "a result must be a JSON object"),
        ("success", "a result must be a JSON object"),
        ({**SUCCESS, "taskUUID": ""}, "a result needs a taskUUID"),
        ({**SUCCESS, "taskUUID": 5}, "a result needs a taskUUID"),
        ({"status": "success", "videoUUID": VIDEO_UUID}, "a result needs a taskUUID"),
        ({**SUCCESS, "status": "done"}, "a result's status must be processing, success or error"),
        ({**SUCCESS, "status": ["success"]}, "a result's status must be processing, success or error"),
        ({**SUCCESS, "videoUUID": None}, "a successful result needs a videoUUID"),
        ({"taskUUID": TASK_UUID, "status": "success"}, "a successful result needs a videoUUID"),
    ],
)
def test_what_is_not_a_result_raises_value_error(item: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        spec.parse_result(item)


def test_an_envelope_with_data_and_errors_gives_every_result_in_order() -> None:
    processing = {"taskType": "videoInference", "taskUUID": TASK_UUID, "status": "processing"}
    results = spec.parse_envelope({"data": [processing, SUCCESS], "errors": [PROVIDER_ERROR]})
    assert [r.status for r in results] == ["processing", "success", "error"]


def test_an_envelope_whose_data_is_an_object_gives_its_one_result() -> None:
    assert [r.video_uuid for r in spec.parse_envelope({"data": SUCCESS})] == [VIDEO_UUID]


def test_a_bare_item_is_its_own_envelope() -> None:
    assert spec.parse_envelope(SUCCESS) == [spec.parse_result(SUCCESS)]


def test_an_empty_or_null_envelope_holds_no_results() -> None:
    assert spec.parse_envelope({"data": []}) == []
    assert spec.parse_envelope({"data": None, "errors": []}) == []


def test_every_item_of_errors_is_an_error_whatever_it_says() -> None:
    [result] = spec.parse_envelope(
        {"errors": [{"taskUUID": TASK_UUID, "status": "success", "message": "no"}]}
    )
    assert (result.status, result.error_message) == ("error", "no")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([SUCCESS], "a Runware response must be a JSON object"),
        (None, "a Runware response must be a JSON object"),
        ({"data": "nope"}, "data must be a list or an object"),
        ({"errors": 3}, "errors must be a list or an object"),
        ({"errors": [{"code": "invalidApiKey", "message": "Invalid API key."}]}, "a result needs a taskUUID"),
        ({"data": [3]}, "a result must be a JSON object"),
    ],
)
def test_an_envelope_that_holds_no_results_raises_value_error(body: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        spec.parse_envelope(body)
