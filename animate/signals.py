"""Receivers of Django's own signals: logins, logouts and failed logins go to the audit log."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from animate.models import AuditEvent
from animate.services import teams
from animate.services.audit import audit_login_event, client_ip


def _ip(request: Any) -> str | None:
    return client_ip(request.META) if request is not None else None


@receiver(user_logged_in, dispatch_uid="animate-audit-login")
def audit_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_login_event(action=AuditEvent.Action.LOGIN, user=user, ip=_ip(request))
    if request is not None and teams.temporary_password_pending(user):
        request.session[teams.TEMPORARY_PASSWORD_SESSION_KEY] = True


@receiver(user_logged_out, dispatch_uid="animate-audit-logout")
def audit_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_login_event(action=AuditEvent.Action.LOGOUT, user=user, ip=_ip(request))


@receiver(user_login_failed, dispatch_uid="animate-audit-login-failed")
def audit_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # Django has already replaced the password in ``credentials`` with stars; only the name is kept.
    username = str(credentials.get("username", ""))[:150]
    audit_login_event(action=AuditEvent.Action.LOGIN_FAILED, username=username, ip=_ip(request))
