"""Settings come from the environment; production defaults are the safe ones."""

import json
import os
import subprocess
import sys

from django.conf import settings

PROBE = "import json, project.settings as s; print(json.dumps({k: getattr(s, k, None) for k in KEYS}))"


def _settings(env: dict[str, str], *keys: str) -> subprocess.CompletedProcess:
    ours = ("RUNWARE_", "DEBUG", "ANIMATE_", "SECRET")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", PROBE.replace("KEYS", repr(list(keys)))],
        cwd=settings.BASE_DIR,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _settings({"DEBUG": "0"}, "SECRET_KEY")
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_production_without_an_api_key_does_not_mount_the_sandbox():
    result = _settings({"DEBUG": "0", "SECRET_KEY": "x" * 50}, "RUNWARE_SANDBOX", "SESSION_COOKIE_SECURE")
    assert json.loads(result.stdout) == {"RUNWARE_SANDBOX": False, "SESSION_COOKIE_SECURE": True}


def test_a_sandbox_asked_for_in_production_needs_its_own_api_key():
    refused = _settings({"DEBUG": "0", "SECRET_KEY": "x" * 50, "RUNWARE_SANDBOX": "1"}, "RUNWARE_SANDBOX")
    assert refused.returncode != 0 and "RUNWARE_SANDBOX_API_KEY" in refused.stderr
    allowed = _settings(
        {"DEBUG": "0", "SECRET_KEY": "x" * 50, "RUNWARE_SANDBOX": "1", "RUNWARE_SANDBOX_API_KEY": "k" * 20},
        "RUNWARE_SANDBOX",
        "RUNWARE_API_KEY",
    )
    assert json.loads(allowed.stdout) == {"RUNWARE_SANDBOX": True, "RUNWARE_API_KEY": "k" * 20}


def test_development_uses_the_sandbox_unless_a_real_key_is_set():
    assert json.loads(_settings({"DEBUG": "1"}, "RUNWARE_SANDBOX").stdout) == {"RUNWARE_SANDBOX": True}
    with_key = _settings({"DEBUG": "1", "RUNWARE_API_KEY": "real"}, "RUNWARE_SANDBOX", "RUNWARE_API_URL")
    assert json.loads(with_key.stdout) == {
        "RUNWARE_SANDBOX": False,
        "RUNWARE_API_URL": "https://api.runware.ai/v1",
    }


PRODUCTION = {"DEBUG": "0", "SECRET_KEY": "k3y-" + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"}


def test_production_turns_on_https_only_and_hsts():
    keys = (
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
    )
    result = _settings(PRODUCTION, *keys, "CSRF_COOKIE_SECURE", "SECURE_REDIRECT_EXEMPT")
    assert json.loads(result.stdout) == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_REDIRECT_EXEMPT": ["^healthz$"],
    }
    behind_proxy = _settings(PRODUCTION | {"TRUST_X_FORWARDED_PROTO": "1"}, "SECURE_PROXY_SSL_HEADER")
    assert json.loads(behind_proxy.stdout) == {"SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"]}


def test_development_keeps_plain_http():
    result = _settings({"DEBUG": "1"}, "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS")
    assert json.loads(result.stdout) == {
        "SECURE_SSL_REDIRECT": None,
        "SECURE_HSTS_SECONDS": None,
    }  # Django: off


def test_check_deploy_is_clean_in_production_settings(tmp_path):
    from tests.livehelpers import manage

    env = PRODUCTION | {"ALLOWED_HOSTS": "studio.example.com"}
    output = manage(tmp_path, env, "check", "--deploy", "--fail-level", "WARNING")
    assert "System check identified no issues (0 silenced)." in output


def test_check_says_when_allowed_hosts_would_refuse_every_request(tmp_path):
    from tests.livehelpers import _clean_environment

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=_clean_environment(PRODUCTION | {"VAR_DIR": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "animate.W001" in result.stderr and "ALLOWED_HOSTS is empty" in result.stderr


def test_ci_installs_a_cjk_font_with_chromium_for_the_default_chinese_prompt():
    script = (settings.BASE_DIR / ".ci" / "run").read_text()
    assert "missing+=(chromium)" in script and "missing+=(fonts-noto-cjk)" in script
    assert 'apt-get install -y -qq "${missing[@]}"' in script
