"""The Content-Security-Policy on every page, and the guard that keeps inline code out of the pages."""

import pytest
from django.conf import settings

from tests.inline_code_guard import InlineCodeFound, inline_code


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


def test_pages_carry_a_strict_policy_that_names_this_hosts_websocket(member_client):
    policy = member_client.get("/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'self'"
    assert directives["connect-src"] == "'self' ws://testserver"
    assert directives["media-src"] == "'self' blob:" and directives["img-src"] == "'self' data: blob:"
    secure = member_client.get("/", secure=True)["Content-Security-Policy"]
    assert "connect-src 'self' wss://testserver" in secure


def test_a_refused_host_still_gets_an_answer_with_the_policy(client, db):
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    directives = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert directives["connect-src"] == "'self'"


@pytest.mark.parametrize(
    ("html", "problem"),
    [
        ("<script>alert(1)</script>", "line 1: an inline <script>"),
        ('<div style="color: red">x</div>', "line 1: <div style=...>"),
        ('<button onclick="go()">x</button>', "line 1: <button onclick=...>"),
        ("<style>p {}</style>", "line 1: a <style> block"),
        ('<a href="javascript:go()">x</a>', "line 1: <a href=javascript:...>"),
    ],
)
def test_the_guard_finds_each_kind_of_inline_code(html, problem):
    assert inline_code(f"<!doctype html><html><body>{html}</body></html>") == [problem]


def test_the_guard_lets_script_files_and_data_blocks_through():
    html = (
        '<script type="module" src="/static/js/live.js"></script>'
        '<script id="data" type="application/json">{"a": 1}</script>'
        '<div data-style="x" class="onion">ok</div>'
    )
    assert inline_code(html) == []


def test_the_guard_checks_every_page_the_suite_renders(member_client):
    assert settings.MIDDLEWARE[0] == "tests.inline_code_guard.InlineCodeGuard"
    from django.http import HttpResponse
    from django.test import override_settings
    from django.urls import path

    def bad_page(request):
        return HttpResponse("<p style='x'>hi</p>")

    urlpatterns = [path("bad/", bad_page)]
    conf = type("Conf", (), {"urlpatterns": urlpatterns})
    with override_settings(ROOT_URLCONF=conf), pytest.raises(InlineCodeFound, match="/bad/ holds code"):
        member_client.get("/bad/")


def test_development_serves_the_same_enforced_policy():
    # `make run` (DEBUG) enforces the same policy, so a page that breaks under it breaks at once.
    assert settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"] == ["'self'"]
    assert not getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)


def test_the_csrf_refusal_page_is_ours_and_free_of_inline_code(client, member):
    # Django's own page has an inline <style>; the guard above would refuse it.
    csrf_client = type(client)(enforce_csrf_checks=True)
    csrf_client.force_login(member)
    response = csrf_client.post("/team/switch/", {})
    assert response.status_code == 403
    assert "sent without the security token" in response.content.decode()
