from unittest import mock

import pytest
from django.db.utils import OperationalError

from animate.services import workers


def test_healthz_reports_the_database(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_healthz_answers_503_when_the_database_is_down(client, db):
    with mock.patch("animate.health.connection.cursor", side_effect=OperationalError("gone")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"


def test_healthz_reports_the_worker_the_layer_and_whether_the_host_is_allowed(client, db, settings):
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["host_allowed"] is True
    assert body["channel_layer"] == "in-memory" and body["worker"].startswith("embedded: ")
    assert "warnings" not in body
    settings.EMBEDDED_WORKER = False
    assert client.get("/healthz").json()["worker"] == "external: 0 worker process(es) alive"
    workers.worker_register("w-1")
    assert client.get("/healthz").json()["worker"] == "external: 1 worker process(es) alive"


def test_healthz_answers_before_host_validation_and_says_what_is_wrong(client, db, settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = []
    response = client.get("/healthz", HTTP_HOST="10.0.0.7")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "warning" and body["host_allowed"] is False
    assert body["warnings"][0].startswith("ALLOWED_HOSTS is empty, so every request except /healthz")
    assert client.get("/", HTTP_HOST="10.0.0.7").status_code == 400


def test_only_get_and_head_are_answered(client, db):
    response = client.post("/healthz")
    assert response.status_code == 405 and response.json() == {"errors": {"detail": ["Use GET."]}}


@pytest.mark.timeout(120)
def test_a_production_server_without_allowed_hosts_says_so_at_start_and_on_healthz(tmp_path):
    import httpx

    from tests.livehelpers import app_process, manage
    from tests.test_settings import PRODUCTION

    manage(tmp_path, PRODUCTION, "migrate", "--noinput")
    with app_process(tmp_path, PRODUCTION) as (url, log_path):
        health = httpx.get(f"{url}/healthz")
        page = httpx.get(f"{url}/accounts/login/")
    assert health.status_code == 200 and health.json()["status"] == "warning"
    assert page.status_code == 400
    assert "ALLOWED_HOSTS is empty, so every request except /healthz is answered 400" in log_path.read_text()
