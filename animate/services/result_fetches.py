"""One fetch per result at a time.

A webhook and a poll (or two replays drained by different workers) may announce the same result at the
same moment. Both would fetch its video, probe it and write it to storage, and one would then lose on
the Output's unique constraint: double the traffic for nothing, twice the time a 500 MB result takes.
So whoever fetches a result's bytes first claims it (``result_fetch``); the others see the claim and
leave the result to its holder, whose stored Output announces it. The claim lasts only while the fetch
runs; one left by a process that died is taken over once its holder is known gone (``leases``) or once
it is older than any fetch can last (the download's own time limit, plus probing and storing).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from animate.models import ResultFetch
from animate.services import leases

# Beyond the download itself (ANIMATE_DOWNLOAD_MAX_SECONDS): probing, posters, the storage write.
STORE_SECONDS = 300


def claim_seconds() -> float:
    return float(getattr(settings, "ANIMATE_DOWNLOAD_MAX_SECONDS", 900)) + STORE_SECONDS


def result_fetch_claim(*, generation_id: int, video_uuid: str) -> bool:
    """Claim fetching the result; False while another live process holds it."""
    owner = leases.lease_owner()
    for _ in range(3):  # a claim released between our insert and our look is tried again
        now = timezone.now()
        try:
            with transaction.atomic():
                ResultFetch.objects.create(
                    generation_id=generation_id, video_uuid=video_uuid, owner=owner, claimed_at=now
                )
            return True
        except IntegrityError:
            pass
        held = ResultFetch.objects.filter(generation_id=generation_id, video_uuid=video_uuid).first()
        if held is None:
            continue
        stale = held.claimed_at < now - timedelta(seconds=claim_seconds())
        if not stale and leases.lease_holder_alive(held.owner):
            return False
        # Taken over as compare-and-swap: of two processes seeing the same dead claim, one gets it.
        return bool(
            ResultFetch.objects.filter(pk=held.pk, owner=held.owner, claimed_at=held.claimed_at).update(
                owner=owner, claimed_at=now
            )
        )
    return False


def result_fetch_release(*, generation_id: int, video_uuid: str) -> None:
    ResultFetch.objects.filter(
        generation_id=generation_id, video_uuid=video_uuid, owner=leases.lease_owner()
    ).delete()


@contextmanager
def result_fetch(*, generation_id: int, video_uuid: str) -> Iterator[bool]:
    """``with result_fetch(...) as ours:``; ``ours`` False: another process is fetching it right now.
    The claim is released on the way out, whatever happened."""
    ours = result_fetch_claim(generation_id=generation_id, video_uuid=video_uuid)
    try:
        yield ours
    finally:
        if ours:
            result_fetch_release(generation_id=generation_id, video_uuid=video_uuid)


def result_fetches_abandon(*, owner_prefix: str) -> int:
    """Drop the claims of a process that is gone (``host:pid:`` of a worker found lost, or this process
    handing its task back), so the next look fetches those results at once."""
    return ResultFetch.objects.filter(owner__startswith=owner_prefix).delete()[0]
