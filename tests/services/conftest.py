"""The service tests' default run (submitted, two results) and an inline result video; a module that needs
another kind of run defines its own ``generation``."""

import base64
from decimal import Decimal

import pytest

from animate.models import Generation
from animate.samples import make_driving_video


@pytest.fixture
def generation(team, member, image_asset, video_asset):
    return Generation.objects.create(
        team=team,
        created_by=member,
        image=image_asset,
        video=video_asset,
        status="submitted",
        number_results=2,
        estimated_cost=Decimal("0.0200"),
    )


@pytest.fixture
def video_b64(tmp_path):
    path = make_driving_video(tmp_path / "result.mp4", seconds=0.5, fps=8, width=96, height=128)
    return base64.b64encode(path.read_bytes()).decode()
