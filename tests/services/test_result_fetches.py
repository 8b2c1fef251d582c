"""One fetch per result at a time (animate/services/result_fetches.py)."""

import os
import socket
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from animate.models import ResultFetch
from animate.services import leases
from animate.services.result_fetches import claim_seconds, result_fetch, result_fetch_claim

pytestmark = pytest.mark.django_db


def _held_by(generation, owner: str, *, age: float = 0) -> str:
    video_uuid = str(uuid.uuid4())
    ResultFetch.objects.create(
        generation=generation,
        video_uuid=video_uuid,
        owner=owner,
        claimed_at=timezone.now() - timedelta(seconds=age),
    )
    return video_uuid


LIVE_HERE = f"{socket.gethostname()}:{os.getppid()}:parent"  # our parent process runs
GONE_HERE = f"{socket.gethostname()}:{2**22 + 17}:gone"  # above any pid this machine hands out
ELSEWHERE = "another-host:4242:abc"  # cannot be checked from here


def test_the_first_claim_wins_and_a_second_one_is_refused_while_it_is_held(generation):
    video_uuid = str(uuid.uuid4())
    assert result_fetch_claim(generation_id=generation.pk, video_uuid=video_uuid)
    ResultFetch.objects.filter(video_uuid=video_uuid).update(owner=LIVE_HERE)  # as another process
    assert not result_fetch_claim(generation_id=generation.pk, video_uuid=video_uuid)
    assert ResultFetch.objects.get(video_uuid=video_uuid).owner == LIVE_HERE


def test_a_claim_of_a_process_known_gone_is_taken_over_at_once(generation):
    video_uuid = _held_by(generation, GONE_HERE)
    assert result_fetch_claim(generation_id=generation.pk, video_uuid=video_uuid)
    assert ResultFetch.objects.get(video_uuid=video_uuid).owner == leases.lease_owner()


def test_a_claim_of_another_host_is_waited_out_until_no_fetch_could_still_be_running(generation):
    fresh = _held_by(generation, ELSEWHERE, age=claim_seconds() - 60)
    stale = _held_by(generation, ELSEWHERE, age=claim_seconds() + 1)
    assert not result_fetch_claim(generation_id=generation.pk, video_uuid=fresh)
    assert result_fetch_claim(generation_id=generation.pk, video_uuid=stale)


def test_the_claim_ends_with_the_fetch_even_when_it_fails(generation):
    video_uuid = str(uuid.uuid4())
    with (
        pytest.raises(RuntimeError),
        result_fetch(generation_id=generation.pk, video_uuid=video_uuid) as ours,
    ):
        assert ours and ResultFetch.objects.filter(video_uuid=video_uuid).exists()
        raise RuntimeError("the download broke off")
    assert not ResultFetch.objects.filter(video_uuid=video_uuid).exists()


def test_a_refused_claim_leaves_the_holders_claim_in_place(generation):
    video_uuid = _held_by(generation, LIVE_HERE)
    with result_fetch(generation_id=generation.pk, video_uuid=video_uuid) as ours:
        assert not ours
    assert ResultFetch.objects.get(video_uuid=video_uuid).owner == LIVE_HERE
