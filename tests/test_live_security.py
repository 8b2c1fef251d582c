"""The acceptance's hostile cases over a real server: forged webhooks, bad uploads, other teams."""

import json
import uuid

import httpx
import pytest
from django.conf import settings
from django.test import Client
from rest_framework.authtoken.models import Token

from animate.models import Asset, CostEntry, Generation, Output, WebhookEvent
from animate.samples import make_driving_video
from tests.livehelpers import fast_settings, submit, wait_terminal
from tests.services.test_media import audio_only_mp4, png_header_only

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def done(live_server, settings, member, image_asset, video_asset) -> Generation:
    fast_settings(settings)
    generation = wait_terminal(submit(member, image_asset, video_asset))
    assert generation.status == "done"
    return generation


def _snapshot(generation: Generation) -> tuple:
    generation.refresh_from_db()
    return (
        generation.status,
        generation.actual_cost,
        Output.objects.count(),
        CostEntry.objects.count(),
        WebhookEvent.objects.count(),
    )


def _success_body(task_uuid) -> str:
    return json.dumps(
        {
            "data": [
                {
                    "taskType": "videoInference",
                    "taskUUID": str(task_uuid),
                    "status": "success",
                    "videoUUID": str(uuid.uuid4()),
                    "videoURL": "https://im.runware.ai/x.mp4",
                    "cost": 9.99,
                }
            ]
        }
    )


def test_forged_and_foreign_webhooks_are_refused_over_http_and_change_nothing(
    live_server, done, hooked_generation
):
    before = _snapshot(done)
    other, other_secret = hooked_generation()
    attempts = [
        (f"/hooks/runware/{done.pk}/forged-secret/", done.task_uuid, 404),
        (f"/hooks/runware/{done.pk}/{other_secret}/", done.task_uuid, 404),  # another generation's secret
        (f"/hooks/runware/{other.pk}/{other_secret}/", done.task_uuid, 403),  # its taskUUID is not ours
        (f"/hooks/runware/999999/{other_secret}/", done.task_uuid, 404),
    ]
    for path, task_uuid, expected in attempts:
        response = httpx.post(
            live_server.url + path,
            content=_success_body(task_uuid),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == expected, path
    assert (
        httpx.post(
            live_server.url + f"/hooks/runware/{other.pk}/{other_secret}/",
            content="{broken",
            headers={"Content-Type": "application/json"},
        ).status_code
        == 400
    )
    assert _snapshot(done) == before
    other.refresh_from_db()
    assert other.status == "submitted" and not other.outputs.exists()


def _session(user) -> httpx.Client:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    return httpx.Client(cookies={settings.SESSION_COOKIE_NAME: cookie})


def test_a_member_of_another_team_gets_404_everywhere(live_server, done, outsider, member):
    output = done.outputs.get()
    paths = [
        f"/generations/{done.pk}/",
        f"/?from={done.pk}",
        f"/api/generations/{done.pk}/",
        f"/api/assets/{done.video_id}/",
        f"/m/outputs/{output.pk}/file",
        f"/m/outputs/{output.pk}/poster",
        f"/m/assets/{done.video_id}/file",
        f"/m/assets/{done.image_id}/poster",
    ]
    with _session(outsider) as theirs, _session(member) as ours:
        for path in paths:
            assert theirs.get(live_server.url + path).status_code == 404, path
            assert ours.get(live_server.url + path).status_code == 200, path
        listed = theirs.get(live_server.url + "/api/generations/").json()
        assert listed["results"] == []


@pytest.mark.parametrize(
    ("name", "make", "kind"),
    [
        ("notes.mp4", lambda p: p.write_text("definitely not a video"), "video"),
        ("empty.mp4", lambda p: p.write_bytes(b""), "video"),
        (
            "cut.mp4",
            lambda p: p.write_bytes(
                make_driving_video(p.with_suffix(".src.mp4"), seconds=1, fps=8).read_bytes()[:3000]
            ),
            "video",
        ),
        ("sound.mp4", audio_only_mp4, "video"),
        ("bomb.png", lambda p: png_header_only(p, 50_000, 50_000), "image"),
        ("notes.png", lambda p: p.write_text("<svg/>"), "image"),
    ],
)
def test_every_bad_upload_is_refused_over_http_naming_the_field_and_storing_nothing(
    live_server, member, tmp_path, name, make, kind
):
    path = tmp_path / name
    make(path)
    token = Token.objects.create(user=member).key
    with open(path, "rb") as handle:
        response = httpx.post(
            f"{live_server.url}/api/assets/",
            data={"kind": kind},
            files={"file": (name, handle)},
            headers={"Authorization": f"Token {token}"},
        )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["file"] and errors["file"][0]
    assert not Asset.objects.exists()
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_an_oversized_upload_is_refused_before_its_body_is_sent(live_server, member):
    import socket

    token = Token.objects.create(user=member).key
    request = (
        "POST /api/assets/?kind=video HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{live_server.port}\r\n"
        f"Authorization: Token {token}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\n"
        f"Content-Length: {600 * 1024 * 1024}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as sock:
        sock.sendall(request.encode())  # and not one byte of the 600 MB body
        answer = sock.recv(65536).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413")
    assert '"file"' in answer
    assert not Asset.objects.exists()


def test_an_authentic_result_beyond_what_was_asked_is_stored_answered_2xx_and_only_flagged(live_server, done):
    from animate.services.generations import webhook_secret_new
    from tests.livehelpers import wait_for

    secret, digest = webhook_secret_new()
    Generation.objects.filter(pk=done.pk).update(webhook_secret_hashes=[*done.webhook_secret_hashes, digest])
    cost_before = done.actual_cost
    hook = f"{live_server.url}/hooks/runware/{done.pk}/{secret}/"
    extra = json.loads(_success_body(done.task_uuid))
    error = {
        "errors": [
            {"taskUUID": str(done.task_uuid), "status": "error", "code": "late", "message": "x", "cost": 0.2}
        ]
    }
    for body in (extra, error):
        assert httpx.post(hook, json=body).status_code == 202
    wait_for(
        done,
        lambda g: (
            not WebhookEvent.objects.filter(generation=g, status__in=["received", "processing"]).exists()
        ),
    )
    done.refresh_from_db()
    assert done.status == "done" and done.outputs.count() == 1 and done.actual_cost == cost_before
    anomalies = list(
        WebhookEvent.objects.filter(generation=done).exclude(anomaly="").values_list("anomaly", flat=True)
    )
    assert len(anomalies) == 2
    flagged = CostEntry.objects.filter(generation=done, flagged=True).order_by("pk")
    assert [str(e.amount) for e in flagged] == ["9.9900", "0.2000"]
    assert [e.flag_reason for e in flagged] == anomalies
    assert CostEntry.objects.filter(generation=done, flagged=False).count() == 1
