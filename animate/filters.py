"""The gallery's filters: one form read by the gallery page, the board pages, the review player (for
J / K) and the outputs API, so a URL means the same view everywhere.

Every field is optional and is one URL parameter; ``filters()`` turns the cleaned data into the
service's ``GalleryFilters`` and ``query()`` gives back the canonical query string of what was set.
"""

from typing import Any
from urllib.parse import urlencode

from django import forms

from animate.models import Board, Membership, Verdict
from animate.services import gallery
from animate.services.review import ReviewState

ANY = ("", "Any")
PAGE_SIZES = (12, 24, 48, 96)
DEFAULT_PAGE_SIZE = 24


def _choices(pairs: Any, blank: tuple[str, str] = ANY) -> list[tuple[str, str]]:
    return [blank, *[(str(value), str(label)) for value, label in pairs]]


class GalleryFilterForm(forms.Form):
    q = forms.CharField(label="Prompt contains", required=False, max_length=200)
    submitter = forms.TypedChoiceField(label="Submitted by", required=False, coerce=int, empty_value=None)
    mode = forms.ChoiceField(label="Mode", required=False, choices=_choices(gallery.MODE_CHOICES))
    tier = forms.ChoiceField(label="Resolution tier", required=False, choices=_choices(gallery.TIER_CHOICES))
    output_format = forms.ChoiceField(
        label="Output format", required=False, choices=_choices(gallery.FORMAT_CHOICES)
    )
    status = forms.ChoiceField(label="Status", required=False, choices=_choices(gallery.STATUS_CHOICES))
    verdict = forms.ChoiceField(label="Verdict", required=False, choices=_choices(ReviewState.CHOICES))
    reason = forms.ChoiceField(label="Reason tag", required=False, choices=_choices(Verdict.Reason.choices))
    board = forms.TypedChoiceField(label="Board", required=False, coerce=int, empty_value=None)
    cost = forms.ChoiceField(
        label="Cost",
        required=False,
        choices=_choices((key, label) for key, (_, _, label) in gallery.COST_BANDS.items()),
    )
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    starred = forms.BooleanField(label="Starred by me", required=False)
    archived = forms.ChoiceField(
        label="Archive",
        required=False,
        choices=[("", "Hide archived"), (gallery.ARCHIVED_ONLY, "Archived only")],
    )
    sort = forms.ChoiceField(label="Sort", required=False, choices=list(gallery.SORTS.items()))
    page_size = forms.TypedChoiceField(
        label="Per page",
        required=False,
        coerce=int,
        empty_value=DEFAULT_PAGE_SIZE,
        choices=[(size, str(size)) for size in PAGE_SIZES],
    )

    # The order the URL and the filter bar use.
    FILTER_FIELDS = (
        "q",
        "submitter",
        "mode",
        "tier",
        "output_format",
        "status",
        "verdict",
        "reason",
        "board",
        "cost",
        "date_from",
        "date_to",
        "starred",
        "archived",
        "sort",
        "page_size",
    )

    def __init__(self, data: Any = None, *, membership: Membership, fixed_board: Board | None = None) -> None:
        super().__init__(data)
        self.fixed_board = fixed_board
        members = Membership.objects.filter(team_id=membership.team_id).select_related("user")
        self.fields["submitter"].choices = _choices(
            sorted((m.user_id, m.user.get_username()) for m in members), ("", "Anyone")
        )
        self.fields["board"].choices = _choices(
            Board.objects.filter(team_id=membership.team_id).order_by("name").values_list("pk", "name")
        )
        if fixed_board is not None:
            # A board page is the gallery of that board: its board is not a choice.
            del self.fields["board"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> gallery.GalleryFilters:
        """The cleaned choices; an invalid field counts as not set (the page shows its error)."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        board = self.fixed_board.pk if self.fixed_board is not None else data.get("board")
        return gallery.GalleryFilters(
            submitter=data.get("submitter"),
            mode=data.get("mode") or "",
            tier=data.get("tier") or "",
            output_format=data.get("output_format") or "",
            status=data.get("status") or "",
            verdict=data.get("verdict") or "",
            starred=bool(data.get("starred")),
            board=board,
            reason=data.get("reason") or "",
            cost=data.get("cost") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            q=(data.get("q") or "").strip(),
            sort=data.get("sort") or "newest",
            archived=data.get("archived") or "",
        )

    @property
    def chosen_page_size(self) -> int:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return data.get("page_size") or DEFAULT_PAGE_SIZE

    def query(self, **overrides: Any) -> str:
        """The query string of the choices that are set (plus ``overrides``), in a stable order."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        pairs = []
        for name in self.FILTER_FIELDS:
            value = overrides.pop(name, data.get(name))
            if name not in self.fields or value in (None, "", False):
                continue
            if name == "page_size" and value == DEFAULT_PAGE_SIZE:
                continue
            if name == "sort" and value == "newest":
                continue
            pairs.append((name, "1" if value is True else str(value)))
        pairs += [(key, str(value)) for key, value in overrides.items() if value not in (None, "")]
        return urlencode(pairs)

    @property
    def active_count(self) -> int:
        """How many filters narrow the view (sort and page size do not)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        ignored = {"sort", "page_size"}
        return sum(
            1
            for name in self.FILTER_FIELDS
            if name not in ignored and data.get(name) not in (None, "", False)
        )


def gallery_form(
    params: Any, *, membership: Membership, fixed_board: Board | None = None
) -> GalleryFilterForm:
    """A bound, validated filter form for a request's query parameters."""
    form = GalleryFilterForm(params, membership=membership, fixed_board=fixed_board)
    form.is_valid()
    return form
