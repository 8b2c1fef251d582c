"""A task the embedded-worker tests can enqueue and observe."""

import threading

from django_tasks import task

ran = threading.Event()


@task()
def mark_ran() -> None:
    ran.set()
