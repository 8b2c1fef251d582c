import pytest

from animate.embedded import EmbeddedWorkers
from tests import tasks_for_tests

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_enqueued_task_wakes_an_idle_worker_at_once(settings):
    # With a 60 s idle wait, only the wake-up on enqueue can get the task run within the test's bound.
    settings.EMBEDDED_WORKER_MAX_IDLE = 60
    workers = EmbeddedWorkers()
    workers.start(1)
    threads = list(workers.threads)
    try:
        tasks_for_tests.ran.clear()
        tasks_for_tests.mark_ran.enqueue()
        assert tasks_for_tests.ran.wait(15), "the idle worker was not woken by the enqueue"
    finally:
        workers.stop(timeout=15)
    assert threads and not any(thread.is_alive() for thread in threads)
    assert EmbeddedWorkers.active == []


def test_stopping_ends_idle_workers_promptly(settings):
    settings.EMBEDDED_WORKER_MAX_IDLE = 60
    workers = EmbeddedWorkers()
    workers.start(2)
    threads = list(workers.threads)
    workers.stop(timeout=10)
    assert not any(thread.is_alive() for thread in threads)
