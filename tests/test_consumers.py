"""The live-status websocket over a real server: auth, origin, snapshot first, team-scoped events."""

import json
import time

import pytest
from django.conf import settings
from django.test import Client
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from animate.models import Generation
from tests.livehelpers import fast_settings, submit, wait_terminal

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(autouse=True)
def _fast(settings):
    fast_settings(settings)


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _open(live_server, user=None, origin=None):
    headers = {"Cookie": _session_cookie(user)} if user is not None else {}
    return connect(
        live_server.url.replace("http", "ws", 1) + "/ws/generations/",
        origin=origin or live_server.url,
        additional_headers=headers,
        proxy=None,
        open_timeout=5,
    )


def _events_until(ws, predicate, timeout=60.0):
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        except TimeoutError:
            break
        seen.append(message)
        if predicate(message):
            return seen
    raise AssertionError(
        f"condition not met; saw {[m.get('type') + ':' + str(m.get('status')) for m in seen]}"
    )


def test_an_anonymous_socket_is_refused(live_server):
    with pytest.raises((InvalidStatus, ConnectionClosed)), _open(live_server) as ws:
        ws.recv(timeout=5)


def test_a_foreign_origin_is_refused(live_server, member):
    with pytest.raises(InvalidStatus), _open(live_server, member, origin="https://evil.example.com"):
        pass


def test_the_first_message_is_a_snapshot_of_unfinished_generations(
    live_server, member, image_asset, video_asset
):
    queued = Generation.objects.create(
        team=member.memberships.get().team, created_by=member, image=image_asset, video=video_asset
    )
    with _open(live_server, member) as ws:
        snapshot = json.loads(ws.recv(timeout=5))
        assert snapshot["type"] == "snapshot"
        assert [g["id"] for g in snapshot["generations"]] == [queued.pk]
        assert snapshot["generations"][0]["status"] == "queued"
        ws.send(json.dumps({"type": "snapshot"}))
        assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"


def test_status_and_output_events_arrive_live_until_done(live_server, member, image_asset, video_asset):
    with _open(live_server, member) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"
        generation = submit(member, image_asset, video_asset)
        seen = _events_until(ws, lambda m: m.get("id") == generation.pk and m.get("status") == "done")
    statuses = [m["status"] for m in seen if m["type"] == "generation.status" and m["id"] == generation.pk]
    assert statuses[0] == "queued" and statuses[-1] == "done"
    assert statuses.index("submitted") < statuses.index("done")
    outputs = [m for m in seen if m["type"] == "generation.output"]
    assert len(outputs) == 1 and outputs[0]["output"]["url"].startswith("/m/outputs/")
    assert seen[-1]["results_received"] == 1 and seen[-1]["number_results"] == 1


def test_a_member_of_another_team_receives_none_of_our_events(
    live_server, member, outsider, image_asset, video_asset
):
    with _open(live_server, outsider) as theirs, _open(live_server, member) as ours:
        assert json.loads(theirs.recv(timeout=5)) == {"type": "snapshot", "generations": []}
        json.loads(ours.recv(timeout=5))
        generation = submit(member, image_asset, video_asset)
        _events_until(ours, lambda m: m.get("id") == generation.pk and m.get("status") == "done")
        wait_terminal(generation)
        with pytest.raises(TimeoutError):
            theirs.recv(timeout=1.0)


def test_frames_that_are_not_a_known_message_get_an_error_and_keep_the_socket(live_server, member):
    with _open(live_server, member) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"
        for frame in ("not json", json.dumps({"type": "subscribe"}), json.dumps([1, 2]), b"\x00\x01"):
            ws.send(frame)
            assert json.loads(ws.recv(timeout=5))["type"] == "error"
        ws.send(json.dumps({"type": "snapshot"}))
        assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"


def test_a_budget_alert_reaches_the_admins_sockets_only(live_server, admin, member):
    from animate.models import Membership
    from animate.services import budgets
    from tests.costkit import entry

    team = Membership.objects.get(user=admin).team
    with _open(live_server, admin) as admins, _open(live_server, member) as members:
        assert json.loads(admins.recv(timeout=5))["type"] == "snapshot"
        assert json.loads(members.recv(timeout=5))["type"] == "snapshot"
        entry(team, member, "0.9000")
        budgets.budget_set(
            membership=Membership.objects.get(user=admin), user_id=None, monthly_limit="1.00", actor=admin
        )
        seen = _events_until(admins, lambda m: m.get("type") == "notification" and "80%" in m["title"])
        assert [m["title"] for m in seen if m["type"] == "notification"] == [
            "The team's monthly budget is at 50%",
            "The team's monthly budget is at 80%",
        ]
        with pytest.raises(TimeoutError):
            members.recv(timeout=1.0)
