"""Output shapes of the REST API, shared by several endpoints (input serializers live in their view).

These serializers only describe and render data: every value, including absolute URLs, warnings and
prices, is computed by the view or a service and handed over as a plain dict. Money is always a string
with four decimals ("0.0300"), never a float.
"""

from rest_framework import serializers

from animate.models import Asset, Generation, Output

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
    audio_codec = serializers.CharField(
        allow_blank=True, help_text='Codec of the audio track ("aac", "opus"...); empty without one.'
    )
    windows = serializers.IntegerField(
        allow_null=True,
        help_text="Videos only: how many 77-frame windows the model runs over the driving video.",
    )
    warnings = serializers.ListField(
        child=serializers.CharField(), help_text="Things worth knowing before using this asset."
    )
    sha256 = serializers.CharField()
    created_at = serializers.DateTimeField()
    reused = serializers.BooleanField(
        help_text="On upload: the team had these bytes already, and this is that asset (answered 200)."
    )


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


class EarlierRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField(help_text="The run's page.")
    status = serializers.CharField()
    cost = serializers.DecimalField(**MONEY, help_text="What it cost (its estimate while not yet charged).")
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()


class ConflictSerializer(serializers.Serializer):
    """409 (identical job) or 422 (idempotency key reused): the error, and the earlier run when known."""

    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    earlier = EarlierRunSerializer(required=False, help_text="The earlier identical run (409 only).")


class SuggestedSizeSerializer(serializers.Serializer):
    value = serializers.CharField(help_text='"832x480": the size control\'s value.')
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    tier = serializers.CharField()
    text = serializers.CharField(help_text='"832×480 — closest to your video\'s 16:9".')


class EtaSerializer(serializers.Serializer):
    p50_seconds = serializers.IntegerField(help_text="Half of such runs finished within this many seconds.")
    p90_seconds = serializers.IntegerField(help_text="Nine in ten finished within this; past it, it is late.")
    basis = serializers.ChoiceField(
        choices=["team", "default"],
        help_text='"team": measured on the team\'s runs; "default": too few of them yet (under 5).',
    )
    runs = serializers.IntegerField(help_text="The team's finished runs of this tier and mode measured.")


class QuoteSerializer(serializers.Serializer):
    valid = serializers.BooleanField(help_text="True when these choices can be submitted as they are.")
    problems = serializers.DictField(
        child=serializers.CharField(),
        help_text='Field or parameter path (e.g. "video", "parameters.fps") to what is wrong with it.',
    )
    estimate = serializers.DecimalField(
        **MONEY,
        allow_null=True,
        help_text="Price of the whole task (every result), or null when invalid; the top of the range "
        "when `exact` is false (what the budget reserves).",
    )
    estimate_min = serializers.DecimalField(
        **MONEY, allow_null=True, help_text="The cheapest the task can cost (equals `estimate` when exact)."
    )
    estimate_max = serializers.DecimalField(**MONEY, allow_null=True, help_text="The dearest it can cost.")
    exact = serializers.BooleanField(
        help_text="False when the size is left to Runware: the tier is then only known as a range."
    )
    price_note = serializers.CharField(allow_null=True, help_text="Why the price is a range, when it is.")
    breakdown = serializers.CharField(help_text='"3 s × $0.010 × 1 result"; blank without a price.')
    currency = serializers.CharField()
    tier = serializers.CharField(
        allow_null=True, help_text='Price tier: "480p", "580p" or "720p"; null when not exact.'
    )
    suggested_size = SuggestedSizeSerializer(
        allow_null=True, help_text="The table size closest to the inputs' aspect ratio (the page's default)."
    )
    duplicate = EarlierRunSerializer(
        allow_null=True,
        help_text="An earlier run of the team with the same inputs, parameters and explicit seed: "
        "submitting needs `confirm_duplicate`.",
    )
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
    eta = EtaSerializer(
        allow_null=True,
        help_text="How long such a run takes, from the team's finished runs of the same tier and mode; "
        "null when the driving video's duration is unknown.",
    )


class OutputOriginalSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Absolute URL of Runware's file (needs the same authentication).")
    sha256 = serializers.CharField()
    size = serializers.IntegerField(allow_null=True, help_text="Bytes.")


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
    audio = serializers.ChoiceField(
        choices=Output.Audio.choices,
        help_text="`kept`: `url` holds Runware's video with the driving video's audio added; `failed`: it "
        "could not be added (`audio_note` says why) and `url` is Runware's file; `provider`: as delivered.",
    )
    audio_note = serializers.CharField(allow_blank=True)
    original = OutputOriginalSerializer(
        allow_null=True, help_text="Runware's own file, when `url` is the copy with audio; else null."
    )


class GenerationErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class GenerationTimestampsSerializer(serializers.Serializer):
    created = serializers.DateTimeField()
    submitted = serializers.DateTimeField(allow_null=True)
    processing = serializers.DateTimeField(allow_null=True)
    receiving = serializers.DateTimeField(allow_null=True)
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
    board = serializers.IntegerField(
        allow_null=True, help_text="The board that receives its results, if any."
    )
    created_by = serializers.CharField(allow_null=True, help_text="Username of whoever submitted it.")
    parameters = serializers.JSONField(
        help_text="The spec parameters chosen, flat, named as Runware names them."
    )
    keep_audio = serializers.BooleanField(help_text="Results get the driving video's audio.")
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
    results_failed = serializers.IntegerField(
        help_text="How many of number_results Runware ended in error; a done run with some is a partial "
        'success ("Done — 2 of 3"), its error under `error`.'
    )
    dismissed = serializers.BooleanField(help_text='Taken off its creator\'s "Your runs" (create page).')
    timestamps = GenerationTimestampsSerializer()
    outputs = OutputSerializer(many=True)


class GenerationPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = GenerationSerializer(many=True)


# --- review ---------------------------------------------------------------------------------------

REVIEW_STATES = ("unreviewed", "approved", "rejected", "mixed")


class VerdictSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reviewer = serializers.IntegerField(help_text="User id of the reviewer.")
    reviewer_name = serializers.CharField()
    decision = serializers.ChoiceField(choices=["approved", "rejected"])
    reasons = serializers.ListField(child=serializers.CharField(), help_text="Reason tags of a rejection.")
    reason_labels = serializers.ListField(child=serializers.CharField())
    note = serializers.CharField(allow_blank=True)
    rating = serializers.IntegerField(allow_null=True, help_text="1 to 5, if given.")
    current = serializers.BooleanField(help_text="False for verdicts the reviewer has since changed.")
    at = serializers.DateTimeField()


class CommentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    output = serializers.IntegerField()
    author = serializers.IntegerField()
    author_name = serializers.CharField()
    at_seconds = serializers.FloatField(help_text="Where in the result the comment is pinned.")
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)


class OutputCardSerializer(OutputSerializer):
    generation = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Generation.Status.choices, help_text="The generation's status.")
    created_by = serializers.CharField(allow_null=True, help_text="Username of whoever submitted it.")
    mode = serializers.CharField()
    tier = serializers.CharField(help_text='Price tier: "480p", "580p" or "720p".')
    output_format = serializers.CharField()
    size = serializers.IntegerField(help_text="Bytes.")
    review_state = serializers.ChoiceField(choices=REVIEW_STATES, help_text="The team's overall verdict.")
    rating = serializers.FloatField(allow_null=True, help_text="Mean of the current ratings.")
    starred = serializers.BooleanField(help_text="Starred by you (stars are private).")
    archived_at = serializers.DateTimeField(allow_null=True)
    purged = serializers.BooleanField(help_text="Its stored files were deleted by an admin.")
    player = serializers.CharField(help_text="Path of the review player page.")


class OutputCardPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = OutputCardSerializer(many=True)


class OutputDetailSerializer(OutputCardSerializer):
    parameters = serializers.JSONField()
    verdicts = VerdictSerializer(many=True, help_text="Every reviewer's current verdict.")
    history = VerdictSerializer(many=True, help_text="Every verdict ever given, newest first.")
    comments = CommentSerializer(many=True)
    boards = serializers.ListField(child=serializers.IntegerField(), help_text="Boards it is on.")
    siblings = serializers.ListField(
        child=serializers.IntegerField(), help_text="The other outputs of the same generation."
    )


class ReviewSummarySerializer(serializers.Serializer):
    output = serializers.IntegerField()
    review_state = serializers.ChoiceField(choices=REVIEW_STATES, help_text="The team's overall verdict.")
    rating = serializers.FloatField(allow_null=True)
    verdicts = VerdictSerializer(many=True)
    history = VerdictSerializer(many=True)


class StarSerializer(serializers.Serializer):
    output = serializers.IntegerField()
    starred = serializers.BooleanField()


class ArchiveResultSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["archive", "unarchive", "purge"])
    outputs = serializers.ListField(child=serializers.IntegerField(), help_text="Outputs that changed.")
    generations = serializers.ListField(
        child=serializers.IntegerField(), help_text="Generations that changed."
    )


class BoardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    item_count = serializers.IntegerField()
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    page = serializers.CharField(help_text="Path of the board's page.")


class BoardItemsSerializer(serializers.Serializer):
    board = serializers.IntegerField()
    added = serializers.IntegerField(help_text="How many outputs were not on the board before.")
    item_count = serializers.IntegerField()


class ShareLinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    output = serializers.IntegerField(allow_null=True)
    board = serializers.IntegerField(allow_null=True)
    label = serializers.CharField(help_text="What is shared, for people.")
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)


class NewShareLinkSerializer(ShareLinkSerializer):
    url = serializers.URLField(help_text="The link itself: shown only now, it cannot be recovered later.")
