"""Background tasks: each a few lines handing over to a service."""

from django.conf import settings
from django.core.mail import send_mail
from django_tasks import task

from animate.services import polling, reconcile, submission, webhook_events


@task()
def submit_generation(generation_id: int) -> str:
    return submission.generation_submit(generation_id=generation_id)


@task()
def process_webhook_events(generation_id: int) -> str:
    return webhook_events.webhook_events_drain(generation_id=generation_id)


@task()
def poll_generation(generation_id: int, attempt: int = 0) -> bool:
    try:
        terminal = polling.generation_poll(generation_id=generation_id)
    except Exception:
        # A failed poll (e.g. a download that broke off) must not end the chain: the next one retries.
        submission.schedule_poll(generation_id, attempt=attempt + 1)
        raise
    if not terminal:
        submission.schedule_poll(generation_id, attempt=attempt + 1)
    return terminal


@task()
def check_generation(generation_id: int) -> bool:
    # One look at Runware's state, outside the poll chain (which goes on by itself).
    return polling.generation_poll(generation_id=generation_id, check=True)


@task()
def send_email(subject: str, body: str, recipients: list[str]) -> int:
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)


@task()
def reconcile_runware(reconciliation_id: int) -> str:
    return reconcile.reconcile_execute(reconciliation_id=reconciliation_id)


@task()
def reconcile_daily() -> str:
    return reconcile.reconcile_scheduled()
