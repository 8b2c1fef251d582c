"""The request contract of Wan2.2 Animate (``runware:200@8``), copied from its model page as data.

Forms, the API, the client, the sandbox and ``docs/parameters.md`` all read this one module, so a range
or an allowed value is written down exactly once. Nothing here knows about our users or our database.

* ``PARAMETERS`` lists every request parameter (path, type, label, description, group, default, range,
  step, allowed values, required, pairing notes); ``parameter(path)`` finds one.
* ``DIMENSIONS`` is the page's table of supported sizes; ``dimension_label(width, height)`` names one.
* ``RULES`` says in sentences what ``validate`` enforces beyond single ranges (the docs render them).
* ``validate(task)`` returns every ``Problem`` at once; an empty list means Runware should accept it.
* ``build_task(choices)`` / ``flatten_task(task)`` convert between form choices and the nested task.
* ``parse_result(item)`` / ``parse_envelope(body)`` read what Runware sends back.

Paths are dotted as Runware names them (``acceleratorOptions.cacheEndStep``); inside the ``lora`` array a
parameter's path is ``lora[].weight`` and a problem names the row, ``lora[0].weight``.
"""

import copy
import math
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import urlsplit

from animate.runware import money

TASK_TYPE = "videoInference"
MODEL = "runware:200@8"
# The page prints the maximum seed as 9223372036854776000: 2**63 - 1 after a trip through a 64-bit
# float, which is larger than any signed 64-bit integer. The exact integer keeps the bound honest.
SEED_MAX = 2**63 - 1
# cacheEndStep must not exceed steps; when steps is not sent, Runware uses this default.
STEPS_DEFAULT = 30

MISSING = "missingParameter"
UNKNOWN = "unknownParameter"
INVALID = "invalidParameter"
INCOMPATIBLE = "incompatibleParameters"
ERROR_CODES: dict[str, str] = {
    MISSING: "A required parameter is absent, or one of a pair is sent without the other.",
    UNKNOWN: "The parameter is not part of this model's request (named by its full path).",
    INVALID: "The value has the wrong type, format, or is outside the allowed range or values.",
    INCOMPATIBLE: "Each value is fine alone, but the combination is forbidden by the page.",
}

GROUPS: tuple[tuple[str, str], ...] = (
    ("inputs", "Inputs"),
    ("features", "Features"),
    ("generation", "Generation"),
    ("lora", "LoRA"),
    ("accelerator", "Accelerator options"),
    ("safety", "Safety"),
    ("api", "API options"),
)

DIMENSIONS: tuple[tuple[int, int, str], ...] = (
    (480, 480, "360p (1:1)"),
    (480, 704, "360p (15:22)"),
    (704, 480, "360p (22:15)"),
    (480, 832, "360p (9:16)"),
    (832, 480, "360p (16:9)"),
    (480, 1280, "720p (3:8)"),
    (1280, 480, "720p (8:3)"),
    (704, 704, "720p (1:1)"),
    (704, 832, "720p (11:13)"),
    (832, 704, "720p (13:11)"),
    (704, 1280, "720p (9:16)"),
    (1280, 704, "720p (16:9)"),
    (832, 832, "720p (1:1)"),
    (832, 1280, "720p (13:20)"),
    (1280, 832, "720p (20:13)"),
    (1280, 1280, "1080p (1:1)"),
)
_LABELS = {(width, height): label for width, height, label in DIMENSIONS}
# The table happens to hold every combination of its four side lengths, so checking each side against
# them is exactly the pair check (tests/runware/test_spec.py pins this down should the table change).
_SIDES = tuple(sorted({width for width, _, _ in DIMENSIONS}))

SCHEDULERS: tuple[str, ...] = (
    "DDIM", "DDIMScheduler", "DDPMScheduler", "DEISMultistepScheduler", "Default", "DPM++", "DPM++ 2M",
    "DPM++ 2M Beta", "DPM++ 2M Exponential", "DPM++ 2M Karras", "DPM++ 2M SDE", "DPM++ 2M SDE Beta",
    "DPM++ 2M SDE Exponential", "DPM++ 2M SDE Karras", "DPM++ 2M SDE Uniform", "DPM++ 2M Uniform",
    "DPM++ 3M", "DPM++ 3M Beta", "DPM++ 3M Exponential", "DPM++ 3M Karras", "DPM++ 3M SDE Uniform",
    "DPM++ 3M Uniform", "DPM++ Beta", "DPM++ Exponential", "DPM++ Karras", "DPM++ SDE", "DPM++ SDE Beta",
    "DPM++ SDE Exponential", "DPM++ SDE Karras", "DPM++ Uniform", "DPM++ Uniform Beta",
    "DPM++ Uniform Exponential", "DPM++ Uniform Karras", "DPMSolverMultistepInverse",
    "DPMSolverMultistepScheduler", "DPMSolverSinglestepScheduler", "EDMDPMSolverMultistepScheduler",
    "EDMEulerScheduler", "Euler", "Euler a", "Euler Beta", "Euler DiscreteScheduler", "Euler Exponential",
    "Euler Karras", "EulerAncestralDiscreteScheduler", "FlowMatchEulerDiscreteScheduler", "Heun",
    "HeunDiscreteScheduler", "Heun Karras", "IPNDMScheduler", "IPNDM Uniform", "IPNDM Uniform Beta",
    "IPNDM Uniform Exponential", "IPNDM Uniform Karras", "KDPM2AncestralDiscreteScheduler",
    "KDPM2DiscreteScheduler", "LCM", "LCMScheduler", "LMS", "LMSDiscreteScheduler", "LMS Karras",
    "PNDMScheduler", "TCDScheduler", "UniPC", "UniPC 2M", "UniPC 2M Karras", "UniPC 2M Uniform",
    "UniPC 3M", "UniPC 3M Karras", "UniPC 3M Uniform", "UniPC Karras", "UniPC Uniform",
    "UniPC Uniform Beta", "UniPC Uniform Exponential", "UniPC Uniform Karras",
)  # fmt: skip

RULES: tuple[str, ...] = (
    "`taskType` is always `videoInference` and `model` is always `runware:200@8`.",
    "`taskUUID` is a UUID v4 in its 8-4-4-4-12 hex form (version nibble 4, RFC 4122 variant).",
    "`outputType` accepts only `URL` and `deliveryMethod` only `async`, the only values the page allows.",
    "The page marks both `inputs.referenceImages` and `inputs.referenceVideos` as required, and its "
    "compatibility section asks for reference inputs or an output size. An animation needs a character "
    "(the image) and the motion that drives it (the video), so both lists are required with at least one "
    "item each; that also satisfies the compatibility rule. The output size comes from `resolution`, or "
    "from `width` and `height`, or, when neither is given, from the inputs.",
    "`resolution` cannot be used with `width`/`height`.",
    "`width` and `height` must be used together and must be one of the sizes in the dimension table; the "
    "table holds every combination of 480, 704, 832 and 1280, so each side is checked against those.",
    "Each `inputs.referenceImages` item is a UUID, an http(s) URL, a data URI (`data:<type>;base64,...`) "
    "or base64; each `inputs.referenceVideos` item is a UUID or an http(s) URL.",
    "`webhookURL` and `uploadEndpoint` are absolute http(s) URLs.",
    "`seed` runs from 0 to 9223372036854775807 (2^63 - 1). The page prints 9223372036854776000, which is "
    "that number rounded through a 64-bit float and is beyond the signed 64-bit range; the exact integer "
    "is used instead.",
    "Integer parameters take JSON integers only: `true`/`false` are not integers, and a float such as "
    "`30.0` is rejected rather than silently converted, so what is sent is exactly what was validated. "
    "Float parameters also take integers.",
    "Float parameters with a step of 0.01 must be whole multiples of 0.01; binary float noise (0.29 "
    "stored as 0.28999999999999998) is tolerated.",
    "Prompt lengths are counted in Unicode characters.",
    "`acceleratorOptions.cacheStartStep` < `cacheEndStep` <= `steps`. Without `steps` its default, 30, is "
    "the limit; without `cacheEndStep`, `cacheStartStep` must be below `steps`.",
    "`acceleratorOptions.cacheStartStepPercentage` < `cacheEndStepPercentage` when both are given.",
    "`advancedFeatures.wanAnimate.retargetPose: true` is only supported in `animate` mode (the default); "
    "with `replace` it is rejected.",
    "Every `lora` item needs a non-empty `model`.",
    "Unknown parameters are rejected at every nesting level and named by their full dotted path.",
    "Every problem is reported at once, each with the parameter's path, a sentence and a code.",
)

ParameterType = Literal["string", "integer", "float", "boolean", "string[]", "object[]"]
ItemKind = Literal["uuid", "url", "data-uri", "base64"]


@dataclass(frozen=True)
class Parameter:
    """One request parameter as the page describes it; forms and docs are generated from these.

    ``choices`` are the allowed values (one value means the parameter is fixed), ``minimum``/``maximum``
    bound numbers, ``step`` is the page's step for floats, and ``paired_with``/``excludes`` name the
    parameters it must come with or cannot come with.
    """

    path: str
    type: ParameterType
    label: str
    group: str
    description: str
    default: Any = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    step: float | None = None
    choices: tuple[Any, ...] = ()
    required: bool = False
    # "uuid4" or "uri" for strings.
    format: str | None = None
    # Length bounds: characters for strings, items for lists.
    min_length: int | None = None
    max_length: int | None = None
    # What a list item may be, for string lists.
    accepts: tuple[ItemKind, ...] = ()
    paired_with: str | None = None
    excludes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    @property
    def key(self) -> str:
        """The flat key of ``build_task``: the leaf name, except ``safetyMode`` (``mode`` is wanAnimate's)."""
        return "safetyMode" if self.path == "safety.mode" else self.name


_ACCELERATOR = "acceleratorOptions."
_WAN = "advancedFeatures.wanAnimate."
_HUNDREDTH = 0.01

# One entry per parameter, laid out as a table: path, type, label, group, description, then limits.
# fmt: off
PARAMETERS: tuple[Parameter, ...] = (
    # Both lists are required; RULES explains how that fits the page's compatibility rule.
    Parameter("inputs.referenceImages", "string[]", "Character image", "inputs",
        "Reference images of the character (UUID, URL, Data URI, or Base64).",
        required=True, min_length=1, accepts=("uuid", "url", "data-uri", "base64")),
    Parameter("inputs.referenceVideos", "string[]", "Driving video", "inputs",
        "Reference videos whose motion drives the animation (UUID, URL).",
        required=True, min_length=1, accepts=("uuid", "url")),
    Parameter(_WAN + "mode", "string", "Mode", "features",
        "Animation strategy. `animate` uses pose detection and retargeting (brings a character to life); "
        "`replace` uses segmentation to substitute the character in existing footage.",
        default="animate", choices=("animate", "replace")),
    Parameter(_WAN + "prevSegCondFrames", "integer", "Previous segment frames", "features",
        "Frames from the previous segment used for temporal consistency. Higher values improve continuity "
        "but increase inference time.",
        default=1, minimum=1, maximum=5),
    Parameter(_WAN + "retargetPose", "boolean", "Retarget pose", "features",
        "Retarget the pose to match the reference image. Only supported in `animate` mode.",
        default=False),
    Parameter("model", "string", "Model", "generation",
        "Identifier of the model to use for generation.",
        required=True, choices=(MODEL,)),
    Parameter("positivePrompt", "string", "Prompt", "generation",
        "Text describing elements to include in the generated output.",
        default="视频中的人在做动作", min_length=1, max_length=2000),
    Parameter("negativePrompt", "string", "Negative prompt", "generation",
        "Text describing what to exclude. Ignored when guidance is disabled (CFGScale <= 1).",
        min_length=1, max_length=2000),
    Parameter("width", "integer", "Width", "generation",
        "Width of the generated video in pixels.",
        choices=_SIDES, paired_with="height", excludes=("resolution",)),
    Parameter("height", "integer", "Height", "generation",
        "Height of the generated video in pixels.",
        choices=_SIDES, paired_with="width", excludes=("resolution",)),
    Parameter("resolution", "string", "Resolution", "generation",
        "Resolution preset for the output. With input media it matches the aspect ratio of the input.",
        choices=("480p", "580p", "720p"), excludes=("width", "height")),
    Parameter("fps", "integer", "Frames per second", "generation",
        "Frames per second of the video. Higher values give smoother motion but take longer.",
        default=16, minimum=4, maximum=60),
    Parameter("seed", "integer", "Seed", "generation",
        "Random seed for reproducible generation. When not given, a random seed in the unsigned 32-bit "
        "range is used.",
        minimum=0, maximum=SEED_MAX),
    Parameter("steps", "integer", "Steps", "generation",
        "Total number of denoising steps. More steps give more detail but take longer.",
        default=STEPS_DEFAULT, minimum=2, maximum=50),
    Parameter("scheduler", "string", "Scheduler", "generation",
        "Scheduler used for the diffusion process.",
        choices=SCHEDULERS),
    Parameter("CFGScale", "float", "Guidance scale", "generation",
        "How closely the output follows the prompt. Higher values follow it more closely.",
        minimum=0, step=_HUNDREDTH),
    Parameter("lora", "object[]", "LoRA adapters", "lora",
        "LoRA models that adapt the base model to a style or subject; several can be combined."),
    Parameter("lora[].model", "string", "LoRA model", "lora",
        "LoRA model identifier.",
        required=True, min_length=1),
    Parameter("lora[].weight", "float", "LoRA weight", "lora",
        "Strength of the LoRA. 0 means no influence; negative values steer away from its style.",
        default=1, minimum=-4, maximum=4, step=_HUNDREDTH),
    Parameter("lora[].transformer", "string", "LoRA stages", "lora",
        "Transformer stages the LoRA applies to: `high` (coarse structure, early steps), `low` (fine "
        "details, later steps) or `both`.",
        default="both", choices=("high", "low", "both")),
    Parameter(_ACCELERATOR + "cacheStartStep", "integer", "Cache start step", "accelerator",
        "Absolute step number to start caching. Must be less than `cacheEndStep`.",
        minimum=0),
    Parameter(_ACCELERATOR + "cacheEndStep", "integer", "Cache end step", "accelerator",
        "Absolute step number to end caching. Must be greater than `cacheStartStep` and at most `steps`.",
        minimum=1),
    Parameter(_ACCELERATOR + "cacheStartStepPercentage", "integer", "Cache start (%)", "accelerator",
        "Percentage of steps to start caching; alternative to `cacheStartStep`. Must be less than "
        "`cacheEndStepPercentage`.",
        minimum=0, maximum=99),
    Parameter(_ACCELERATOR + "cacheEndStepPercentage", "integer", "Cache end (%)", "accelerator",
        "Percentage of steps to end caching; alternative to `cacheEndStep`. Must be greater than "
        "`cacheStartStepPercentage`.",
        minimum=1, maximum=100),
    Parameter(_ACCELERATOR + "cacheMaxConsecutiveSteps", "integer", "Max consecutive cached steps",
        "accelerator",
        "Most consecutive steps that may use cached computations before a fresh one is forced.",
        default=3, minimum=1, maximum=5),
    Parameter(_ACCELERATOR + "fbCache", "boolean", "First Block Cache", "accelerator",
        "First Block Cache (FBCache) acceleration: reuses feature block computations across steps.",
        default=False),
    Parameter(_ACCELERATOR + "fbCacheThreshold", "float", "FBCache threshold", "accelerator",
        "Sensitivity threshold for reusing cached computations. Lower values reuse more aggressively.",
        default=0.25, minimum=0, maximum=1, step=_HUNDREDTH),
    Parameter(_ACCELERATOR + "teaCache", "boolean", "TeaCache", "accelerator",
        "TeaCache acceleration: estimates step differences to skip redundant computations.",
        default=False),
    Parameter(_ACCELERATOR + "teaCacheDistance", "float", "TeaCache distance", "accelerator",
        "Aggressiveness of TeaCache. Lower values favour quality, higher values speed.",
        default=0.5, minimum=0, maximum=1, step=_HUNDREDTH),
    Parameter(_ACCELERATOR + "dbCache", "boolean", "DB Cache", "accelerator",
        "DB Cache (CacheDiT) acceleration: reuses intermediate transformer block outputs.",
        default=False),
    Parameter(_ACCELERATOR + "dbCacheThreshold", "float", "DB Cache threshold", "accelerator",
        "Sensitivity threshold for DB Cache. Lower values reuse cached blocks more aggressively.",
        default=0.25, minimum=0, maximum=1, step=_HUNDREDTH),
    Parameter(_ACCELERATOR + "dbCacheSkipInterval", "integer", "DB Cache skip interval", "accelerator",
        "Steps skipped between cache refreshes. Higher values are faster at some cost in quality.",
        default=5, minimum=1),
    Parameter("safety.checkContent", "boolean", "Check content", "safety",
        "Enable content safety checking. When enabled, it defaults to `fast` mode.",
        default=False),
    Parameter("safety.mode", "string", "Safety mode", "safety",
        "Safety checking mode: `none` disables checking, `fast` checks key frames, `full` checks all "
        "frames.",
        default="none", choices=("none", "fast", "full")),
    Parameter("taskType", "string", "Task type", "api",
        "Identifier for the type of task being performed.",
        required=True, choices=(TASK_TYPE,)),
    Parameter("taskUUID", "string", "Task UUID", "api",
        "UUID v4 for tracking the task and matching async responses. Must be unique per task.",
        required=True, format="uuid4"),
    Parameter("outputType", "string", "Output type", "api",
        "Video output type.",
        default="URL", choices=("URL",)),
    Parameter("outputFormat", "string", "Output format", "api",
        "File format of the video: `MP4` (H.264, widely supported), `WEBM` (web delivery) or `MOV` "
        "(QuickTime).",
        default="MP4", choices=("MP4", "WEBM", "MOV")),
    Parameter("outputQuality", "integer", "Output quality", "api",
        "Compression quality. Higher values preserve quality but increase file size.",
        default=95, minimum=20, maximum=99),
    Parameter("webhookURL", "string", "Webhook URL", "api",
        "URL that receives each completed result as JSON by HTTP POST, one call per result.",
        format="uri"),
    Parameter("deliveryMethod", "string", "Delivery method", "api",
        "How results are delivered: `async` acknowledges at once; results come by webhook or getResponse.",
        default="async", choices=("async",)),
    Parameter("uploadEndpoint", "string", "Upload endpoint", "api",
        "URL the finished video is uploaded to by HTTP PUT (raw bytes as the body), e.g. a presigned "
        "storage URL.",
        format="uri"),
    Parameter("ttl", "integer", "Time to live", "api",
        "Seconds the video URL stays available. Only applies when `outputType` is `URL`.",
        minimum=60),
    Parameter("includeCost", "boolean", "Include cost", "api",
        "Include the task cost in the response.",
        default=False),
    Parameter("numberResults", "integer", "Number of results", "api",
        "Number of videos to generate, each with a different seed.",
        default=1, minimum=1, maximum=4),
)
# fmt: on


_BY_PATH = {p.path: p for p in PARAMETERS}


def _children() -> dict[str, list[str]]:
    """The keys each object may hold: "" is the task itself, "lora[]" one row of the lora list."""
    children: dict[str, list[str]] = {"": []}
    for param in PARAMETERS:
        parts = param.path.split(".")
        for depth, name in enumerate(parts):
            siblings = children.setdefault(".".join(parts[:depth]), [])
            # "lora[]" names the rows of the "lora" list, never a key of the task.
            if not name.endswith("[]") and name not in siblings:
                siblings.append(name)
    return children


_CHILDREN = _children()
# Objects whose keys are parameters, as they appear in a task.
_OBJECTS = frozenset(path for path in _CHILDREN if path and not path.endswith("[]"))
# The flat keys of build_task: every parameter outside the lora rows, by its key.
_FLAT = {p.key: p.path for p in PARAMETERS if not p.path.startswith("lora[]")}
# Always sent, so build_task adds them and flatten_task leaves them out.
_FIXED = {"taskType": TASK_TYPE, "model": MODEL, "deliveryMethod": "async", "outputType": "URL"}

_WIDTH, _HEIGHT, _RESOLUTION, _STEPS = "width", "height", "resolution", "steps"
_START, _END = _ACCELERATOR + "cacheStartStep", _ACCELERATOR + "cacheEndStep"
_START_PCT, _END_PCT = _ACCELERATOR + "cacheStartStepPercentage", _ACCELERATOR + "cacheEndStepPercentage"
_MODE, _RETARGET = _WAN + "mode", _WAN + "retargetPose"

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", re.IGNORECASE)
# With the length a multiple of 4, this is exactly standard padded base64, and fast on megabytes.
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_DATA_URI = re.compile(
    r"data:[\w.+-]+/[\w.+-]+(?:;[\w.+-]+=[\w.+-]+)*;base64,(.+)", re.IGNORECASE | re.DOTALL
)
_ITEM_WORDS: dict[str, str] = {
    "uuid": "a UUID",
    "url": "an http(s) URL",
    "data-uri": "a data URI",
    "base64": "base64 data",
}


def parameter(path: str) -> Parameter:
    """The parameter at ``path``; row indexes are ignored, so ``lora[2].weight`` finds ``lora[].weight``."""
    return _BY_PATH[re.sub(r"\[\d+\]", "[]", path)]


def dimension_label(width: int, height: int) -> str | None:
    """The table's label for a size, e.g. ``360p (1:1)`` for 480x480; None if the model cannot make it."""
    return _LABELS.get((width, height))


def describe(param: Parameter) -> str:
    """What ``param`` accepts, as the end of a sentence: "fps must be <an integer from 4 to 60>"."""
    if param.type == "boolean":
        return "true or false"
    if param.type == "string[]":
        return f"a list of at least one item, each {_either(param.accepts)}"
    if param.type == "object[]":
        return "a list of objects"
    if len(param.choices) == 1:
        return str(param.choices[0])
    if param.choices:
        return "one of " + ", ".join(str(choice) for choice in param.choices)
    if param.format == "uuid4":
        return "a UUID v4 (xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx)"
    if param.format == "uri":
        return "an absolute http(s) URL"
    if param.type == "string":
        if param.max_length is not None:
            return f"text of {param.min_length} to {param.max_length} characters"
        return "a non-empty string"
    kind = "an integer" if param.type == "integer" else "a number"
    step = f" in steps of {param.step}" if param.step is not None else ""
    if param.maximum is None:
        return f"{kind} of at least {param.minimum}{step}"
    return f"{kind} from {param.minimum} to {param.maximum}{step}"


def _either(kinds: tuple[ItemKind, ...]) -> str:
    words = [_ITEM_WORDS[kind] for kind in kinds]
    return ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]


@dataclass(frozen=True)
class Problem:
    """One reason Runware would refuse a task: where (dotted path), why (a sentence), and a code.

    ``code`` is one of ``ERROR_CODES``, named like Runware's own error codes.
    """

    parameter: str
    message: str
    code: str


def validate(task: Any) -> list[Problem]:
    """Every problem with ``task`` at once; an empty list means it is valid. Never raises on JSON input."""
    if not isinstance(task, dict):
        return [Problem("", "The task must be a JSON object.", INVALID)]
    walk = _Walk()
    walk.members(task, "", "")
    return walk.problems + _combination_problems(walk.present, walk.valid)


@dataclass
class _Walk:
    """Checks each value on its own, remembering what was sent and what passed for the combination rules."""

    problems: list[Problem] = field(default_factory=list)
    present: set[str] = field(default_factory=set)
    valid: dict[str, Any] = field(default_factory=dict)

    def members(self, obj: dict[Any, Any], container: str, shown: str) -> None:
        for key, value in obj.items():
            where = _join(shown, key)
            if key not in _CHILDREN[container]:
                self.problems.append(Problem(where, f"{where} is not a parameter of {MODEL}.", UNKNOWN))
            elif (path := _join(container, key)) in _BY_PATH:
                self.check(_BY_PATH[path], value, where)
            elif isinstance(value, dict):
                self.members(value, path, where)
            else:
                self.problems.append(Problem(where, f"{where} must be an object.", INVALID))
        self.problems.extend(_missing(obj, container, shown))

    def check(self, param: Parameter, value: Any, where: str) -> None:
        before = len(self.problems)
        if param.type == "object[]":
            self.rows(value, where)
        elif param.type == "string[]":
            self.problems.extend(_list_problems(param, value, where))
        elif not _accepts(param, value):
            self.problems.append(Problem(where, f"{where} must be {describe(param)}.", INVALID))
        # Lora rows never take part in combination rules, so only paths outside them are remembered.
        if where == param.path:
            self.present.add(where)
            if len(self.problems) == before:
                self.valid[where] = value

    def rows(self, value: Any, where: str) -> None:
        if not isinstance(value, list):
            self.problems.append(Problem(where, f"{where} must be a list of objects.", INVALID))
            return
        for index, row in enumerate(value):
            shown = f"{where}[{index}]"
            if isinstance(row, dict):
                self.members(row, "lora[]", shown)
            else:
                self.problems.append(Problem(shown, f"{shown} must be an object with a model.", INVALID))


def _join(prefix: str, key: Any) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _missing(obj: dict[Any, Any], container: str, shown: str) -> list[Problem]:
    problems = []
    for name in _CHILDREN[container]:
        if name in obj:
            continue
        path = _join(container, name)
        for param in PARAMETERS:
            if param.required and (param.path == path or param.path.startswith(path + ".")):
                where = _join(shown, param.path.removeprefix(container + ".") if container else param.path)
                problems.append(Problem(where, f"{where} is required.", MISSING))
    return problems


def _accepts(param: Parameter, value: Any) -> bool:
    if param.type == "boolean":
        return isinstance(value, bool)
    if param.type == "string":
        return isinstance(value, str) and _string_ok(param, value)
    if param.type == "integer" and not _is_int(value):
        return False
    if param.type == "float" and not (_is_number(value) and _on_step(value, param.step)):
        return False
    if param.choices:
        return value in param.choices
    return (param.minimum is None or value >= param.minimum) and (
        param.maximum is None or value <= param.maximum
    )


def _is_int(value: Any) -> bool:
    # bool is a subclass of int in Python, but true/false are not integers in JSON.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return _is_int(value) or (isinstance(value, float) and math.isfinite(value))


def _on_step(value: float, step: float | None) -> bool:
    # Every float of magnitude 2**53 or more is a whole number, so on any 0.01 grid; skipping them also
    # keeps the scaled value finite.
    if step is None or isinstance(value, int) or abs(value) >= 2**53:
        return True
    # Scale by the whole number 1/step (100): multiplying by 100 adds less noise than dividing by 0.01.
    scaled = value * round(1 / step)
    return math.isclose(scaled, round(scaled), rel_tol=1e-9, abs_tol=1e-9)


def _string_ok(param: Parameter, value: str) -> bool:
    if param.choices:
        return value in param.choices
    if param.min_length is not None and len(value) < param.min_length:
        return False
    if param.max_length is not None and len(value) > param.max_length:
        return False
    if param.format == "uuid4":
        return _UUID4.fullmatch(value) is not None
    if param.format == "uri":
        return _is_http_url(value)
    return True


def _is_http_url(value: str) -> bool:
    # The prefix test first keeps a multi-megabyte base64 item from being scanned character by character.
    if not value[:8].lower().startswith(("http://", "https://")):
        return False
    # urlsplit tolerates spaces and control characters; a URI may not contain them.
    if any(char.isspace() or not char.isprintable() for char in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def _is_base64(value: str) -> bool:
    return len(value) % 4 == 0 and _BASE64.fullmatch(value) is not None


def _is_data_uri(value: str) -> bool:
    match = _DATA_URI.fullmatch(value)
    return match is not None and _is_base64(match.group(1))


_ITEM_CHECKS = {
    "uuid": lambda item: _UUID.fullmatch(item) is not None,
    "url": _is_http_url,
    "data-uri": _is_data_uri,
    "base64": _is_base64,
}


def _list_problems(param: Parameter, value: Any, where: str) -> list[Problem]:
    if not isinstance(value, list) or len(value) < (param.min_length or 0):
        return [Problem(where, f"{where} must be {describe(param)}.", INVALID)]
    return [
        Problem(f"{where}[{index}]", f"{where}[{index}] must be {_either(param.accepts)}.", INVALID)
        for index, item in enumerate(value)
        if not (isinstance(item, str) and item and any(_ITEM_CHECKS[kind](item) for kind in param.accepts))
    ]


def _combination_problems(present: set[str], valid: dict[str, Any]) -> list[Problem]:
    problems = []
    if _RESOLUTION in present and present & {_WIDTH, _HEIGHT}:
        problems.append(
            Problem(
                _RESOLUTION,
                "resolution cannot be used with width/height: send either resolution or width and height.",
                INCOMPATIBLE,
            )
        )
    for side, other in ((_WIDTH, _HEIGHT), (_HEIGHT, _WIDTH)):
        if side in present and other not in present:
            problems.append(Problem(other, f"{other} must be given together with {side}.", MISSING))
    problems.extend(_cache_problems(present, valid))
    # A value that failed its own check is already reported; comparing with it would only repeat that.
    mode = valid.get(_MODE, "animate") if _MODE in valid or _MODE not in present else None
    if valid.get(_RETARGET) is True and mode == "replace":
        problems.append(
            Problem(_RETARGET, f"{_RETARGET} is only supported in animate mode, not replace.", INCOMPATIBLE)
        )
    return problems


def _cache_problems(present: set[str], valid: dict[str, Any]) -> list[Problem]:
    problems = []
    steps = valid.get(_STEPS, STEPS_DEFAULT) if _STEPS in valid or _STEPS not in present else None
    steps_text = f"steps ({steps})" if _STEPS in present else f"steps ({steps}, its default)"
    end = valid.get(_END)
    if end is not None and steps is not None and end > steps:
        problems.append(Problem(_END, f"{_END} must be at most {steps_text}.", INCOMPATIBLE))
    start = valid.get(_START)
    limit, limit_text = (end, f"cacheEndStep ({end})") if _END in present else (steps, steps_text)
    if start is not None and limit is not None and start >= limit:
        problems.append(Problem(_START, f"{_START} must be less than {limit_text}.", INCOMPATIBLE))
    start_pct, end_pct = valid.get(_START_PCT), valid.get(_END_PCT)
    if start_pct is not None and end_pct is not None and start_pct >= end_pct:
        problems.append(
            Problem(
                _START_PCT,
                f"{_START_PCT} must be less than cacheEndStepPercentage ({end_pct}).",
                INCOMPATIBLE,
            )
        )
    return problems


def build_task(choices: dict[str, Any], *, task_uuid: str | None = None) -> dict[str, Any]:
    """The nested task for ``choices``, holding only what was set, plus what every task carries.

    ``choices`` may be flat, nested as in a task, or both. Flat keys are the parameters' leaf names,
    which are unique except two: ``mode`` is ``advancedFeatures.wanAnimate.mode`` and the safety mode is
    ``safetyMode``; inside each ``lora`` row, ``model`` is the LoRA's. None, "" and [] mean "not set" and
    are left out, as are lora rows left blank. Any other key is copied to the top level, where
    ``validate`` names it. ``taskType``, ``model``, ``deliveryMethod`` and ``outputType`` get their only
    allowed values unless ``choices`` says otherwise (then ``validate`` judges it). ``taskUUID`` is
    ``task_uuid`` if given, else a choice, else a fresh UUID v4. Later keys win over earlier ones.
    """
    task: dict[str, Any] = {**_FIXED, "taskUUID": str(uuid.uuid4())}
    for path, value in _assignments(choices, ""):
        _put(task, path, copy.deepcopy(value))
    if task_uuid is not None:
        task["taskUUID"] = task_uuid
    return task


def _assignments(choices: dict[str, Any], container: str) -> Iterator[tuple[str, Any]]:
    for key, value in choices.items():
        path = _join(container, key) if container else _FLAT.get(key, key)
        if path in _OBJECTS and isinstance(value, dict):
            yield from _assignments(value, path)
            continue
        if path == "lora" and isinstance(value, list):
            rows = [
                {k: v for k, v in row.items() if not _unset(v)} if isinstance(row, dict) else row
                for row in value
            ]
            value = [row for row in rows if row != {}]
        if not _unset(value):
            yield path, value


def _unset(value: Any) -> bool:
    return value is None or (isinstance(value, str | list) and not value)


def _put(task: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = task
    for name in parents:
        if not isinstance(node.get(name), dict):
            node[name] = {}
        node = node[name]
    node[leaf] = value


def flatten_task(task: dict[str, Any]) -> dict[str, Any]:
    """The flat choices that rebuild ``task`` with ``build_task`` (given its taskUUID), for re-run forms.

    What build_task adds by itself (taskType, taskUUID, model, deliveryMethod, outputType) is left out.
    Raises ValueError for anything that is not a parameter of this model, so nothing is dropped silently.
    """
    if not isinstance(task, dict):
        raise ValueError("a task must be a JSON object")
    flat: dict[str, Any] = {}
    for path, value in _leaves(task, ""):
        if path in _FIXED or path == "taskUUID":
            continue
        if path in _OBJECTS:
            raise ValueError(f"{path} must be an object")
        if path not in _BY_PATH:
            raise ValueError(f"{path} is not a parameter of {MODEL}")
        flat[_BY_PATH[path].key] = copy.deepcopy(value)
    return flat


def _leaves(obj: dict[str, Any], container: str) -> Iterator[tuple[str, Any]]:
    for key, value in obj.items():
        path = _join(container, key)
        if path in _OBJECTS and isinstance(value, dict):
            yield from _leaves(value, path)
        else:
            yield path, value


Status = Literal["processing", "success", "error"]
STATUSES: tuple[Status, ...] = ("processing", "success", "error")


@dataclass(frozen=True)
class VideoResult:
    """One generation's state as Runware reports it, by webhook, getResponse or acknowledgement."""

    task_type: str | None
    task_uuid: str
    status: Status
    video_uuid: str | None = None
    video_url: str | None = None
    video_base64_data: str | None = None
    video_data_uri: str | None = None
    seed: int | None = None
    nsfw_content: bool | None = None
    # Exact decimal of the JSON number (via its shortest repr), never a float.
    cost: Decimal | None = None
    error_code: str | None = None
    error_message: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def parse_result(item: Any) -> VideoResult:
    """Read one result item; raises ValueError for anything that is not one.

    Both error shapes are accepted: an ``errors[]`` item (``code``, ``message``) and a ``data[]`` item with
    ``status: "error"`` and a nested ``error: {code, message}``. Without a status, an item with
    ``videoUUID`` is a success and one with neither ``videoUUID`` nor an error is the acknowledgement of
    an async submit: the task was accepted and is processing.
    """
    return _parse(item, in_errors=False)


def parse_envelope(body: Any) -> list[VideoResult]:
    """The results in a response body: ``{"data": [...], "errors": [...]}``, ``{"data": {...}}`` or an item.

    Every ``errors[]`` item is an error, whatever else it carries. Raises ValueError for anything else.
    """
    if not isinstance(body, dict):
        raise ValueError("a Runware response must be a JSON object")
    if "data" not in body and "errors" not in body:
        return [_parse(body, in_errors=False)]
    results = []
    for name in ("data", "errors"):
        items = body.get(name)
        if items is None:
            continue
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list):
            raise ValueError(f"{name} must be a list or an object")
        results.extend(_parse(item, in_errors=name == "errors") for item in items)
    return results


def _parse(item: Any, *, in_errors: bool) -> VideoResult:
    if not isinstance(item, dict):
        raise ValueError("a result must be a JSON object")
    task_uuid = item.get("taskUUID")
    if not isinstance(task_uuid, str) or not task_uuid:
        raise ValueError("a result needs a taskUUID")
    status = _status(item, in_errors=in_errors)
    video_uuid = _text(item, "videoUUID")
    if status == "success" and video_uuid is None:
        raise ValueError("a successful result needs a videoUUID")
    error = item.get("error") if isinstance(item.get("error"), dict) else {}
    return VideoResult(
        task_type=_text(item, "taskType"),
        task_uuid=task_uuid,
        status=status,
        video_uuid=video_uuid,
        video_url=_text(item, "videoURL"),
        video_base64_data=_text(item, "videoBase64Data"),
        video_data_uri=_text(item, "videoDataURI"),
        seed=item["seed"] if _is_int(item.get("seed")) else None,
        nsfw_content=item["NSFWContent"] if isinstance(item.get("NSFWContent"), bool) else None,
        cost=_cost(item.get("cost")),
        error_code=_text(item, "code") or _text(error, "code"),
        error_message=_text(item, "message") or _text(error, "message"),
        raw=item,
    )


def _status(item: dict[str, Any], *, in_errors: bool) -> Status:
    if in_errors:
        return "error"
    declared = item.get("status")
    if declared is not None:
        for status in STATUSES:
            if declared == status:
                return status
        raise ValueError("a result's status must be processing, success or error")
    if "code" in item or isinstance(item.get("error"), dict):
        return "error"
    return "success" if "videoUUID" in item else "processing"


def _text(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


def _cost(value: Any) -> Decimal | None:
    # A string is not a number on the wire, although the shared reader would take one.
    return money.to_decimal(value) if _is_number(value) else None
