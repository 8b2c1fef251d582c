"""The Content-Security-Policy middleware: django-csp's, naming this request's own websocket origin."""

from typing import Any

from csp.middleware import CSPMiddleware, PolicyParts
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponseBase


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """``connect-src`` gets ``ws(s)://<this host>`` for the live-status socket, explicitly: ``'self'``
    covers it in CSP Level 3 browsers only, and the host is known only per request."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        try:
            host = request.get_host()
        except DisallowedHost:
            return parts  # answered 400 anyway, with the base policy
        update: dict[str, Any] = dict(parts.update or {})
        origin = f"{'wss' if request.is_secure() else 'ws'}://{host}"
        update["connect-src"] = [*update.get("connect-src", []), origin]
        parts.update = update
        return parts
