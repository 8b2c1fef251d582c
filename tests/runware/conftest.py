"""Fixtures shared by the sandbox test modules (opted into with ``usefixtures("sandbox_settings")``)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from animate.runware.client import RunwareClient
from tests.runware.sandbox_kit import SampleMedia, configure_sandbox, sample_media, sandbox_client


@pytest.fixture
def sandbox_settings(settings: Any, tmp_path: Path) -> None:
    configure_sandbox(settings, tmp_path)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> SampleMedia:
    return sample_media(tmp_path_factory.mktemp("media"))


@pytest.fixture
def client(live_server: Any) -> Iterator[RunwareClient]:
    with sandbox_client(live_server) as client:
        yield client
