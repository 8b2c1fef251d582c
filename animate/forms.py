"""Forms of the creator's pages; the parameter form is generated from ``spec.PARAMETERS``.

``ParameterForm`` has one field per user-settable parameter (labels, help text, ranges, steps and
allowed values all come from the spec), except where the page combines several into one control:

* ``size`` — ``resolution`` (a preset) *or* ``width`` x ``height`` (a row of the dimension table) in one
  select, so the two can never be sent together;
* ``seed`` plus ``seed_random`` — "random" means the seed is not sent;
* LoRA rows ``lora-<n>-model`` / ``-weight`` / ``-transformer``, as many as the data holds.

Every field is optional: a blank field is not sent and the model's default applies (the default is the
placeholder). ``choices()`` turns cleaned data into the flat, spec-named dict the services take;
``form_data_from_choices`` goes the other way, so JSON clients and re-runs pass through the same form.
"""

import re
from typing import Any

from django import forms
from django.utils.html import strip_tags

from animate.runware import spec

# The one list of keys the server sets on every task (the user never chooses them) lives with the code
# that builds the task.
from animate.services.generations import SERVER_KEYS

SERVER_SET = frozenset(SERVER_KEYS)
SIZE_PATHS = ("resolution", "width", "height")
LORA_PREFIX = "lora"
LORA_ROWS_MAX = 10
# The "Basics" of the page, in display order; everything else goes under "Advanced".
BASIC_FIELDS = (
    "mode",
    "size",
    "fps",
    "seed",
    "numberResults",
    "outputFormat",
    "outputQuality",
    "positivePrompt",
    "negativePrompt",
)
# The default prompt is Chinese; its meaning is shown beside it for everyone else.
PLACEHOLDERS = {"positivePrompt": "视频中的人在做动作 (default: “the person in the video is moving”)"}
# Group order of the "Advanced" section (LoRA rows are rendered after "generation" by the template).
ADVANCED_ORDER = ("generation", "features", "accelerator", "safety", "api")
_LORA_FIELD = re.compile(r"^lora-(\d+)-(model|weight|transformer)$")
_CODE = re.compile(r"`([^`]*)`")


def is_user_settable(parameter: spec.Parameter) -> bool:
    return (
        parameter.path not in SERVER_SET
        and not parameter.path.startswith("inputs.")
        and parameter.path != "inputs"
    )


def user_parameters() -> list[spec.Parameter]:
    return [parameter for parameter in spec.PARAMETERS if is_user_settable(parameter)]


def _lora_parameter(leaf: str) -> spec.Parameter:
    return spec.parameter(f"lora[].{leaf}")


def _help(parameter: spec.Parameter) -> str:
    # Descriptions mark values with backticks (Markdown); plain text reads better in a form.
    return _CODE.sub(r"\1", strip_tags(parameter.description))


def _default_text(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return "" if value is None else str(value)


def _number_attrs(parameter: spec.Parameter) -> dict[str, Any]:
    attrs: dict[str, Any] = {"inputmode": "numeric" if parameter.type == "integer" else "decimal"}
    attrs["step"] = (
        parameter.step if parameter.step is not None else (1 if parameter.type == "integer" else "any")
    )
    if parameter.default is not None:
        attrs["placeholder"] = _default_text(parameter.default)
    return attrs


def _choice_label(parameter: spec.Parameter) -> str:
    default = _default_text(parameter.default)
    return f"Default ({default})" if default else "Default (not sent)"


def field_for(parameter: spec.Parameter) -> forms.Field:
    """A Django form field for one spec parameter, every constraint taken from the spec."""
    common: dict[str, Any] = {"label": parameter.label, "help_text": _help(parameter), "required": False}
    if parameter.type == "boolean":
        return forms.BooleanField(**common)
    if parameter.type == "integer" and not parameter.choices:
        return forms.IntegerField(
            min_value=parameter.minimum,
            max_value=parameter.maximum,
            widget=forms.NumberInput(attrs=_number_attrs(parameter)),
            **common,
        )
    if parameter.type == "float":
        return forms.FloatField(
            min_value=parameter.minimum,
            max_value=parameter.maximum,
            widget=forms.NumberInput(attrs=_number_attrs(parameter)),
            **common,
        )
    if parameter.choices:
        options = [("", _choice_label(parameter))] + [(str(value), str(value)) for value in parameter.choices]
        return forms.ChoiceField(choices=options, **common)
    attrs: dict[str, Any] = {}
    if parameter.default:
        attrs["placeholder"] = PLACEHOLDERS.get(parameter.path, str(parameter.default))
    if parameter.max_length:
        attrs["maxlength"] = parameter.max_length
    widget = (
        forms.Textarea(attrs={"rows": 2, **attrs}) if "Prompt" in parameter.path else forms.TextInput(attrs)
    )
    return forms.CharField(
        min_length=parameter.min_length, max_length=parameter.max_length, strip=True, widget=widget, **common
    )


def size_choices() -> list[tuple[str, Any]]:
    resolution = spec.parameter("resolution")
    presets = [
        (str(value), f"{value} preset (keeps the input's aspect ratio)") for value in resolution.choices
    ]
    exact = [
        (f"{width}x{height}", f"{width} × {height} · {label}") for width, height, label in spec.DIMENSIONS
    ]
    return [
        ("", "Left to Runware, from the inputs (price is a range)"),
        ("Resolution preset", presets),
        ("Exact size", exact),
    ]


def _field_path(name: str) -> str:
    """The spec path a form field stands for (problems are keyed by path)."""
    match = _LORA_FIELD.match(name)
    if match:
        return f"lora[{match.group(1)}].{match.group(2)}"
    if name == "size":
        return "resolution"
    if name == "seed_random":
        return "seed"
    for parameter in user_parameters():
        if parameter.key == name:
            return parameter.path
    return name


class ParameterForm(forms.Form):
    """Every user-settable parameter of the spec; blank means "not sent"."""

    def __init__(self, *args: Any, lora_rows: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.paths: dict[str, str] = {}  # field name -> spec path(s) it covers, joined by " "
        for parameter in user_parameters():
            if parameter.path in SIZE_PATHS or parameter.path.startswith("lora"):
                continue
            name = parameter.key
            self.fields[name] = field_for(parameter)
            self.paths[name] = parameter.path
            if name == "seed":
                self.fields["seed_random"] = forms.BooleanField(
                    label="Random seed",
                    required=False,
                    initial=True,
                    help_text="A new random seed for every run (the seed is not sent).",
                )
                self.paths["seed_random"] = parameter.path
        mode = spec.parameter("advancedFeatures.wanAnimate.mode")
        self.fields["mode"] = forms.ChoiceField(
            label=mode.label,
            help_text=_help(mode),
            required=False,
            initial=mode.default,
            choices=[(value, str(value).capitalize()) for value in mode.choices],
            widget=forms.RadioSelect,
        )
        self.fields["size"] = forms.ChoiceField(
            label="Size",
            required=False,
            choices=size_choices(),
            help_text="A resolution preset (matches the input's aspect ratio) or an exact width × height "
            "from the model's size table. Only one of them can be sent.",
        )
        self.paths["size"] = " ".join(SIZE_PATHS)
        self.lora_rows = self._lora_row_count(lora_rows)
        for index in range(self.lora_rows):
            self._add_lora_row(index)
        # The page renders these two by hand: the radios carry their error, the box the seed's help.
        self.fields["mode"].widget.attrs["aria-describedby"] = "err-mode"
        self.fields["seed_random"].widget.attrs["aria-describedby"] = "help-seed"
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("data-key", name)
            field.widget.attrs.setdefault("data-path", self.paths.get(name, name))
            described = f"help-{name} err-{name}" if field.help_text else f"err-{name}"
            field.widget.attrs.setdefault("aria-describedby", described)

    # -- LoRA rows ---------------------------------------------------------------------------------

    def _lora_row_count(self, explicit: int | None) -> int:
        if explicit is not None:
            return min(explicit, LORA_ROWS_MAX)
        indices = set()
        for source in (self.data, self.initial):
            for key in source or {}:
                match = _LORA_FIELD.match(str(key))
                if match:
                    indices.add(int(match.group(1)))
        return min(max(indices) + 1, LORA_ROWS_MAX) if indices else 0

    def _add_lora_row(self, index: int) -> None:
        for leaf in ("model", "weight", "transformer"):
            parameter = _lora_parameter(leaf)
            name = f"{LORA_PREFIX}-{index}-{leaf}"
            self.fields[name] = field_for(parameter)
            self.fields[name].label = parameter.label
            self.paths[name] = parameter.path

    @staticmethod
    def lora_template_row() -> list[forms.BoundField]:
        """Row 0 of a fresh form: the page clones it (renumbered) when "Add LoRA" is pressed."""
        return ParameterForm(lora_rows=1).lora_row_fields()[0]

    def lora_row_fields(self) -> list[list[forms.BoundField]]:
        return [
            [self[f"{LORA_PREFIX}-{index}-{leaf}"] for leaf in ("model", "weight", "transformer")]
            for index in range(self.lora_rows)
        ]

    # -- grouping for templates ------------------------------------------------------------------

    def basic_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in BASIC_FIELDS if name in self.fields and name not in {"mode", "seed"}]

    def advanced_groups(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        """(group key, title, fields) for the "Advanced" section, in the spec's group order."""
        taken = set(BASIC_FIELDS) | {"seed_random"}
        groups = []
        titles = dict(spec.GROUPS)
        order = [key for key in ADVANCED_ORDER if key in titles]
        order += [key for key in titles if key not in order and key not in {"inputs", "lora"}]
        for key in order:
            title = "Animation" if key == "features" else titles[key]
            names = [
                parameter.key
                for parameter in user_parameters()
                if parameter.group == key and parameter.key in self.fields and parameter.key not in taken
            ]
            if names:
                groups.append((key, title, [self[name] for name in names]))
        return groups

    def covered_paths(self) -> set[str]:
        """Every spec path a field of this form sets (the lora rows cover ``lora`` and ``lora[].*``)."""
        covered = {path for joined in self.paths.values() for path in joined.split(" ")}
        covered.add("lora")
        covered.update(
            parameter.path for parameter in user_parameters() if parameter.path.startswith("lora[].")
        )
        return covered

    # -- cleaning --------------------------------------------------------------------------------

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for index in range(self.lora_rows):
            model = cleaned.get(f"{LORA_PREFIX}-{index}-model")
            weight = cleaned.get(f"{LORA_PREFIX}-{index}-weight")
            transformer = cleaned.get(f"{LORA_PREFIX}-{index}-transformer")
            if not model and (weight is not None or transformer):
                self.add_error(f"{LORA_PREFIX}-{index}-model", "Enter the LoRA model, or remove this row.")
        return cleaned

    def choices(self) -> dict[str, Any]:
        """The cleaned data as flat, spec-named choices; blank fields are left out."""
        data = self.cleaned_data
        choices: dict[str, Any] = {}
        for parameter in user_parameters():
            name = parameter.key
            if parameter.path in SIZE_PATHS or parameter.path.startswith("lora") or name not in self.fields:
                continue
            value = data.get(name)
            if parameter.type == "boolean":
                # An unticked box sends nothing when that is the default anyway.
                if value or (value is False and parameter.default):
                    choices[name] = bool(value)
                continue
            if value is None or value == "":
                continue
            if parameter.type == "integer" and parameter.choices:
                value = int(value)
            choices[name] = value
        if data.get("seed_random") and "seed" in choices:
            del choices["seed"]
        if choices.get("mode") == "replace":
            # The page greys retargetPose out in replace mode: a stale tick is not sent.
            choices.pop("retargetPose", None)
        size = data.get("size") or ""
        if "x" in size:
            width, height = size.split("x", 1)
            choices["width"], choices["height"] = int(width), int(height)
        elif size:
            choices["resolution"] = size
        loras = []
        for index in range(self.lora_rows):
            model = data.get(f"{LORA_PREFIX}-{index}-model")
            if not model:
                continue
            row: dict[str, Any] = {"model": model}
            weight = data.get(f"{LORA_PREFIX}-{index}-weight")
            if weight is not None:
                row["weight"] = weight
            transformer = data.get(f"{LORA_PREFIX}-{index}-transformer")
            if transformer:
                row["transformer"] = transformer
            loras.append(row)
        if loras:
            choices["lora"] = loras
        return choices

    def problems(self) -> dict[str, str]:
        """Form errors keyed by spec path (``acceleratorOptions.cacheEndStep``, ``lora[0].weight``)."""
        problems: dict[str, str] = {}
        for name, errors in self.errors.items():
            key = "parameters" if name == forms.forms.NON_FIELD_ERRORS else _field_path(name)
            label = self.fields[name].label if name in self.fields else None
            message = " ".join(str(error) for error in errors)
            problems.setdefault(key, f"{label}: {message}" if label else message)
        return problems


def form_data_from_choices(choices: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Flat, spec-named choices (JSON clients, stored parameters) as ``ParameterForm`` data.

    Returns the data and the problems found while translating (unknown keys, a width without its
    height, ...), keyed like the service's problems.
    """
    if not isinstance(choices, dict):
        return {}, {"parameters": "choices must be a JSON object of parameter names to values."}
    known = {
        parameter.key: parameter for parameter in user_parameters() if not parameter.path.startswith("lora")
    }
    data: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for key, value in choices.items():
        if key in {"lora", "width", "height", "resolution"}:
            continue
        parameter = known.get(key)
        if key in SERVER_SET:
            problems[key] = f"{key}: set by the server; leave it out."
            continue
        if parameter is None:
            problems[key] = f"{key}: not a parameter you can set for this model."
            continue
        if value is None:
            continue
        if parameter.type == "boolean":
            if not isinstance(value, bool):
                problems[parameter.path] = f"{parameter.label}: must be true or false."
            elif value:
                data[key] = "on"
            continue
        if isinstance(value, (dict, list)):
            problems[parameter.path] = f"{parameter.label}: must be a single value."
            continue
        data[key] = str(value).lower() if isinstance(value, bool) else str(value)
    if choices.get("seed") is None:
        data["seed_random"] = "on"
    width, height, resolution = choices.get("width"), choices.get("height"), choices.get("resolution")
    if resolution not in (None, "") and (width is not None or height is not None):
        problems["resolution"] = "Size: resolution cannot be used with width/height."
    elif (width is None) != (height is None):
        problems["width" if width is None else "height"] = "Size: width and height must be used together."
    elif width is not None:
        data["size"] = f"{width}x{height}"
    elif resolution not in (None, ""):
        data["size"] = str(resolution)
    loras = choices.get("lora")
    if loras is not None:
        if not isinstance(loras, list) or len(loras) > LORA_ROWS_MAX:
            problems["lora"] = f"LoRA adapters: a list of at most {LORA_ROWS_MAX} rows."
        else:
            for index, row in enumerate(loras):
                if not isinstance(row, dict):
                    problems[f"lora[{index}]"] = "LoRA adapters: each row is an object with model and weight."
                    continue
                for leaf, value in row.items():
                    if leaf not in {"model", "weight", "transformer"}:
                        problems[f"lora[{index}].{leaf}"] = f"LoRA: {leaf} is not a LoRA setting."
                    elif value is not None:
                        data[f"{LORA_PREFIX}-{index}-{leaf}"] = str(value)
    return data, problems


def parameter_form_for_choices(choices: Any) -> tuple[ParameterForm, dict[str, str]]:
    data, problems = form_data_from_choices(choices)
    return ParameterForm(data=data), problems


def parameter_form_initial(parameters: dict[str, Any]) -> ParameterForm:
    """An unbound form pre-filled from a generation's stored parameters (re-run)."""
    data, _ = form_data_from_choices(parameters)
    initial: dict[str, Any] = {key: (True if value == "on" else value) for key, value in data.items()}
    initial.setdefault("seed_random", "seed" not in parameters)
    initial["seed_random"] = bool(initial["seed_random"])
    return ParameterForm(initial=initial)
