"""Share links: the public read-only page behind ``/s/<token>/`` and its media, and the page where
members see (admins: all of the team's) live links and revoke them.

The public side answers 404 for anything a live link does not grant, exactly as for a bad token, and
never shows an id, name or link of the team beyond what was shared.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from animate.models import Membership, ShareLink
from animate.services import shares
from animate.services.audit import client_ip
from animate.services.review import ReviewForbidden
from animate.views.common import no_team, request_membership
from animate.views.media import serve_output

# Shared media may be cached by the viewer's browser, never by a proxy, and not past the link's life.
SHARE_CACHE = {"private": True, "no_cache": True}


def _private(response: HttpResponseBase) -> HttpResponseBase:
    # The token is the credential: it must not leak to other sites through the Referer header.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _live(token: str) -> ShareLink:
    share = shares.share_for_token(token)
    if share is None:
        raise Http404("This link has expired, was revoked, or never existed.")
    return share


@require_safe
def share_page(request: HttpRequest, token: str) -> HttpResponse:
    share = _live(token)
    outputs = list(shares.share_outputs(share))
    if share.output_id is not None and not outputs:
        raise Http404("This link's output is no longer available.")
    context = {
        "share": share,
        "token": token,
        "outputs": outputs,
        "title": share.board.name if share.board_id else "Shared result",
    }
    response = render(request, "animate/share/share.html", context)
    response["Cache-Control"] = "private, no-store"
    return _private(response)  # type: ignore[return-value]


@require_safe
def share_media(request: HttpRequest, token: str, output_pk: int, kind: str) -> HttpResponseBase:
    if kind not in {"file", "poster"}:
        raise Http404
    share = _live(token)
    output = get_object_or_404(shares.share_outputs(share), pk=output_pk)
    return _private(serve_output(request, output, poster=kind == "poster", cache=SHARE_CACHE))


@login_required
@require_http_methods(["GET", "POST"])
def share_list(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    if membership is None:
        return no_team(request)
    if request.method == "POST":
        share = get_object_or_404(ShareLink, pk=request.POST.get("share") or 0, team_id=membership.team_id)
        try:
            shares.share_revoke(membership=membership, share=share, ip=client_ip(request.META))
        except ReviewForbidden as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Revoked the link to {shares.share_label(share)}.")
        return redirect("share-list")
    links = [(link, shares.share_label(link)) for link in shares.shares_active(membership)]
    context = {
        "nav": "shares",
        "membership": membership,
        "links": links,
        "is_admin": membership.role == Membership.Role.ADMIN,
    }
    return render(request, "animate/share/links.html", context)
