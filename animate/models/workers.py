"""Worker processes (``manage.py worker``) and their heartbeats: who is alive, and what each is running."""

from django.db import models


class WorkerProcess(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        STOPPING = "stopping", "Stopping"  # SIGTERM received: finishing or handing back its task
        STOPPED = "stopped", "Stopped"
        LOST = "lost", "Lost"  # no heartbeat within the lease: its task was given to another worker

    # Forward-only: a stopped or lost worker never runs again (a restarted process is a new row).
    TRANSITIONS = {
        Status.RUNNING: {Status.STOPPING, Status.STOPPED, Status.LOST},
        Status.STOPPING: {Status.STOPPED, Status.LOST},
        Status.STOPPED: set(),
        Status.LOST: set(),
    }
    LIVE = (Status.RUNNING, Status.STOPPING)

    worker_id = models.CharField(max_length=64, unique=True)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    beat_at = models.DateTimeField()
    # The django-tasks result the worker is running right now (empty when idle).
    task_id = models.CharField(max_length=64, blank=True)
    tasks_done = models.PositiveIntegerField(default=0)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "beat_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["running", "stopping", "stopped", "lost"]),
                name="workerprocess_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.status})"
