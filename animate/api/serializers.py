"""Output shapes of the REST API, shared by several endpoints (input serializers live in their view).

These serializers only describe and render data: every value, including absolute URLs, warnings and
prices, is computed by the view or a service and handed over as a plain dict. Money is always a string
with four decimals ("0.0300"), never a float.
"""

from rest_framework import serializers

from animate.models import Asset, Generation

MONEY = {"max_digits": 12, "decimal_places": 4, "coerce_to_string": True}


class ErrorsSerializer(serializers.Serializer):
    """Every 4xx answer: messages keyed by the field or parameter path they are about."""

    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='Field or parameter path (e.g. "video", "parameters.fps") to messages. '
        '"detail" holds errors about the request as a whole (authentication, permission, not found).',
    )


class AssetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Asset.Kind.choices)
    name = serializers.CharField(help_text="The uploaded file's original name.")
    content_type = serializers.CharField()
    size = serializers.IntegerField(help_text="Bytes.")
    url = serializers.URLField(help_text="Absolute URL of the stored file (needs the same authentication).")
    poster = serializers.URLField(allow_null=True, help_text="Absolute URL of a still frame, if any.")
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    fps = serializers.FloatField(allow_null=True, help_text="Videos only.")
    frames = serializers.IntegerField(allow_null=True, help_text="Videos only.")
    duration = serializers.FloatField(allow_null=True, help_text="Seconds; videos only.")
    codec = serializers.CharField(allow_blank=True)
    has_audio = serializers.BooleanField()
    windows = serializers.IntegerField(
        allow_null=True,
        help_text="Videos only: how many 77-frame windows the model runs over the driving video.",
    )
    warnings = serializers.ListField(
        child=serializers.CharField(), help_text="Things worth knowing before using this asset."
    )
    sha256 = serializers.CharField()
    created_at = serializers.DateTimeField()


class AssetPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AssetSerializer(many=True)


class HeadroomSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=["team", "member"], help_text="Whose cap has the least room.")
    label = serializers.CharField()
    limit = serializers.DecimalField(**MONEY)
    remaining = serializers.DecimalField(**MONEY, help_text="Left now (after spend and runs in flight).")
    remaining_after = serializers.DecimalField(
        **MONEY, allow_null=True, help_text="Left after this run (negative: it would be refused)."
    )
    fits = serializers.BooleanField()
    resets_at = serializers.DateTimeField()
    resets_text = serializers.CharField()
    message = serializers.CharField(allow_null=True, help_text="Why a submit would be refused, if it would.")


class QuoteSerializer(serializers.Serializer):
    valid = serializers.BooleanField(help_text="True when these choices can be submitted as they are.")
    problems = serializers.DictField(
        child=serializers.CharField(),
        help_text='Field or parameter path (e.g. "video", "parameters.fps") to what is wrong with it.',
    )
    estimate = serializers.DecimalField(
        **MONEY, allow_null=True, help_text="Price of the whole task (every result), or null when invalid."
    )
    currency = serializers.CharField()
    tier = serializers.CharField(allow_null=True, help_text='Price tier: "480p", "580p" or "720p".')
    billable_seconds = serializers.IntegerField(
        allow_null=True, help_text="The driving video's duration rounded up to whole seconds."
    )
    number_results = serializers.IntegerField()
    warnings = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='Non-blocking notes about the chosen inputs, keyed "image" / "video".',
    )
    budget = HeadroomSerializer(
        allow_null=True,
        help_text="The tightest monthly cap for your runs, after this one; null when uncapped.",
    )


class OutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    video_uuid = serializers.UUIDField()
    seed = serializers.IntegerField(allow_null=True)
    nsfw = serializers.BooleanField()
    cost = serializers.DecimalField(**MONEY, allow_null=True, help_text="USD charged for this result.")
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    fps = serializers.FloatField()
    frames = serializers.IntegerField()
    duration = serializers.FloatField()
    codec = serializers.CharField()
    container = serializers.CharField()
    url = serializers.URLField(help_text="Absolute URL of the stored video (needs the same authentication).")
    poster = serializers.URLField(allow_null=True)
    created_at = serializers.DateTimeField()


class GenerationErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class GenerationTimestampsSerializer(serializers.Serializer):
    created = serializers.DateTimeField()
    submitted = serializers.DateTimeField(allow_null=True)
    processing = serializers.DateTimeField(allow_null=True)
    completed = serializers.DateTimeField(allow_null=True)
    updated = serializers.DateTimeField()


class GenerationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Generation.Status.choices)
    status_label = serializers.CharField()
    task_uuid = serializers.UUIDField()
    image = serializers.IntegerField(help_text="Asset id of the character image.")
    video = serializers.IntegerField(help_text="Asset id of the driving video.")
    parent = serializers.IntegerField(allow_null=True, help_text="The generation this one re-runs, if any.")
    created_by = serializers.CharField(allow_null=True, help_text="Username of whoever submitted it.")
    parameters = serializers.JSONField(
        help_text="The spec parameters chosen, flat, named as Runware names them."
    )
    number_results = serializers.IntegerField()
    estimated_cost = serializers.DecimalField(**MONEY)
    actual_cost = serializers.DecimalField(
        **MONEY, allow_null=True, help_text="Sum of the charged results' costs, once known."
    )
    reserved_cost = serializers.DecimalField(
        **MONEY, help_text="Held against the budgets while the run is in flight; 0 once it ends."
    )
    charged_no_result = serializers.BooleanField(
        help_text="Runware charged for a result that is not stored (or for a failed task)."
    )
    charge_flag = serializers.CharField(
        allow_blank=True, help_text='What to show for it, e.g. "Charged, no result"; empty otherwise.'
    )
    currency = serializers.CharField()
    error = GenerationErrorSerializer(allow_null=True)
    timestamps = GenerationTimestampsSerializer()
    outputs = OutputSerializer(many=True)


class GenerationPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = GenerationSerializer(many=True)
