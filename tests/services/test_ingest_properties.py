"""Hypothesis over ingestion: whatever the interleaving, duplication and delay of a generation's webhook
and poll results, it ends in the same state, outputs and ledger as applying each result once, in order.

A run is what Runware does for a generation of ``numberResults`` n: k successes (0 <= k <= n), ended by
an error when k < n. Its deliveries are one webhook per result plus any number of replays and
``getResponse`` snapshots (cumulative, so a prefix of the results in Runware's order, while the rest still
process), in any order, with the worker draining the stored webhooks at arbitrary moments in between; at
the end, the poll that sees the task over (no result processing).
"""

import base64
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from animate.models import CostEntry, Generation, WebhookEvent
from animate.runware import spec
from animate.samples import make_driving_video
from animate.services import ingest, webhook_events
from animate.services.generations import webhook_secret_new


@dataclass(frozen=True)
class Run:
    number_results: int
    successes: tuple[tuple[str, str], ...]  # (videoUUID, cost)
    error_cost: str | None  # None: no error (all n succeeded), "" : an error without a cost

    def items(self, task_uuid: str, video_b64: str) -> list[dict]:
        """The run's results as Runware reports them, in its order."""
        results = [
            {
                "taskType": "videoInference",
                "taskUUID": task_uuid,
                "status": "success",
                "videoUUID": video_uuid,
                "videoBase64Data": video_b64,
                "seed": index,
                "cost": float(cost),
            }
            for index, (video_uuid, cost) in enumerate(self.successes)
        ]
        if self.error_cost is not None:
            error = {"taskUUID": task_uuid, "status": "error", "code": "inferenceError", "message": "failed"}
            if self.error_cost:
                error["cost"] = float(self.error_cost)
            results.append(error)
        return results


costs = st.sampled_from(["0.01", "0.02", "0.05", "0.10", "0.25"])


@st.composite
def runs(draw) -> Run:
    n = draw(st.integers(1, 3))
    k = draw(st.integers(0, n))
    successes = tuple((str(uuid.UUID(int=draw(st.integers(1, 2**64)))), draw(costs)) for _ in range(k))
    if len({video_uuid for video_uuid, _ in successes}) < k:
        successes = tuple((str(uuid.uuid4()), cost) for _, cost in successes)
    error = None if k == n else draw(st.one_of(st.just(""), costs))
    return Run(n, successes, error)


@st.composite
def deliveries(draw, run: Run) -> list[tuple]:
    """Steps: ("webhook", i), ("poll", p) — the first p results — and ("drain",), in any order."""
    count = len(run.successes) + (run.error_cost is not None)
    steps: list[tuple] = [("webhook", i) for i in range(count)]
    steps += draw(st.lists(st.integers(0, count - 1).map(lambda i: ("webhook", i)), max_size=4))
    steps += draw(st.lists(st.integers(0, count).map(lambda p: ("poll", p)), max_size=3))
    steps += [("drain",)] * draw(st.integers(0, 4))
    return draw(st.permutations(steps))


@pytest.fixture(scope="module")
def video_b64(tmp_path_factory) -> str:
    path = make_driving_video(tmp_path_factory.mktemp("v") / "r.mp4", seconds=0.5, fps=8, width=64, height=96)
    return base64.b64encode(path.read_bytes()).decode()


def _generation(team, member, image, video, run: Run) -> tuple[Generation, str]:
    secret, digest = webhook_secret_new()
    generation = Generation.objects.create(
        team=team,
        created_by=member,
        image=image,
        video=video,
        status="submitted",
        number_results=run.number_results,
        estimated_cost=Decimal("0.0100") * run.number_results,
        webhook_secret_hashes=[digest],
    )
    return generation, secret


def _final(generation: Generation) -> tuple:
    generation.refresh_from_db()
    task = str(generation.task_uuid)
    ledger = sorted(
        (entry.key.replace(task, "TASK"), entry.amount, entry.kind, entry.flagged)
        for entry in CostEntry.objects.filter(generation=generation)
    )
    outputs = sorted(
        str(video_uuid) for video_uuid in generation.outputs.values_list("video_uuid", flat=True)
    )
    return generation.status, generation.error_code, generation.actual_cost, outputs, ledger


def _webhook(generation: Generation, secret: str, item: dict) -> None:
    envelope = {"errors": [item]} if item["status"] == "error" else {"data": [item]}
    webhook_events.webhook_receive(
        generation_id=generation.pk, secret=secret, body=json.dumps(envelope).encode(), remote_addr=None
    )


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_interleaving_of_deliveries_ends_as_applying_each_result_once_in_order(
    data, team, member, image_asset, video_asset, video_b64
):
    run = data.draw(runs())
    reference, _ = _generation(team, member, image_asset, video_asset, run)
    reference_items = run.items(str(reference.task_uuid), video_b64)
    for item in reference_items:
        ingest.results_apply(generation_id=reference.pk, results=[spec.parse_result(item)])
    ingest.response_apply(generation_id=reference.pk, results=[spec.parse_result(i) for i in reference_items])

    generation, secret = _generation(team, member, image_asset, video_asset, run)
    items = run.items(str(generation.task_uuid), video_b64)
    for step in data.draw(deliveries(run)):
        if step[0] == "webhook":
            _webhook(generation, secret, items[step[1]])
        elif step[0] == "poll":
            snapshot = [{"taskUUID": str(generation.task_uuid), "status": "processing"}, *items[: step[1]]]
            ingest.response_apply(
                generation_id=generation.pk, results=[spec.parse_result(i) for i in snapshot]
            )
        else:
            webhook_events.webhook_events_drain(generation_id=generation.pk)
    webhook_events.webhook_events_drain(generation_id=generation.pk)  # the worker gets to every stored body
    # The poll chain's look once Runware is done with the task: every result, none processing.
    ingest.response_apply(generation_id=generation.pk, results=[spec.parse_result(i) for i in items])

    assert _final(generation) == _final(reference)
    # Runware is done with the task, so the run has ended: done with its k results when k > 0.
    assert generation.status == ("done" if run.successes else "failed")
    assert generation.results_failed == run.number_results - len(run.successes)
    assert not WebhookEvent.objects.filter(generation=generation).exclude(anomaly="").exists()
