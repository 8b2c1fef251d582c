"""Database fixtures for the benchmarks: a team, a member and generations with known webhook secrets."""

from pathlib import Path


def make_team_and_generations(tmp: Path, count: int):
    from django.contrib.auth import get_user_model
    from django.core.files import File

    from animate.models import Generation, Membership, Team
    from animate.samples import make_character_png, make_driving_video
    from animate.services.generations import webhook_secret_new
    from animate.services.media import asset_create

    team = Team.objects.create(name="Bench", slug="bench")
    user = get_user_model().objects.create_user(username="bench", password="bench-password")
    Membership.objects.create(user=user, team=team, role=Membership.Role.ADMIN)
    assets = {}
    for kind, path in (
        ("image", make_character_png(tmp / "c.png", width=128, height=192)),
        ("video", make_driving_video(tmp / "d.mp4", seconds=1, fps=8, width=64, height=96)),
    ):
        with open(path, "rb") as handle:
            assets[kind] = asset_create(
                team=team, user=user, kind=kind, uploaded_file=File(handle, name=path.name)
            )
    generations = []
    for _ in range(count):
        secret, digest = webhook_secret_new()
        generation = Generation.objects.create(
            team=team,
            created_by=user,
            image=assets["image"],
            video=assets["video"],
            status="submitted",
            webhook_secret_hashes=[digest],
        )
        generations.append((generation, secret))
    return user, generations
