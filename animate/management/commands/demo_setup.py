"""Create (once) the demo team, its admin user and sample media, then print how to log in."""

import os
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from animate.models import Asset, Budget, Membership, Team
from animate.samples import make_character_png, make_driving_video
from animate.services.media import asset_create

DEMO_USER = "demo"
DEMO_TEAM = "demo-team"
DEFAULT_PASSWORD = "animate-demo"  # noqa: S105 - the documented demo login of `make run`
DEMO_BUDGET = Decimal("25.00")


class Command(BaseCommand):
    help = "Create the demo team, a demo admin user and sample media if they do not exist yet."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default=DEMO_USER)
        parser.add_argument(
            "--password",
            default=os.environ.get("DEMO_PASSWORD", DEFAULT_PASSWORD),
            help="Password for a newly created demo user (default: $DEMO_PASSWORD or animate-demo).",
        )

    def handle(self, *args: Any, username: str, password: str, **options: Any) -> None:
        if not username.strip():
            raise CommandError("--username must not be empty.")
        if not settings.DEBUG and password == DEFAULT_PASSWORD:
            # A known password on a staff account is only acceptable on a developer's machine.
            raise CommandError(
                "Outside DEBUG, set --password or DEMO_PASSWORD to something other than the default."
            )
        user_model = get_user_model()
        with transaction.atomic():
            team, _ = Team.objects.get_or_create(slug=DEMO_TEAM, defaults={"name": "Demo team"})
            user = user_model.objects.filter(username=username).first()
            created = user is None
            if created:
                user = user_model.objects.create_user(username=username, password=password, is_staff=True)
            Membership.objects.get_or_create(user=user, team=team, defaults={"role": Membership.Role.ADMIN})
            # A monthly budget from the start, so the cost pages and the price panel show one at work.
            if created:
                Budget.objects.get_or_create(team=team, user=None, defaults={"monthly_limit": DEMO_BUDGET})
        missing = {"image", "video"} - set(Asset.objects.filter(team=team).values_list("kind", flat=True))
        if missing:
            self._make_samples(team=team, user=user, kinds=missing)
        url = settings.PUBLIC_BASE_URL
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Animate Studio is starting at {url}/"))
        if created:
            self.stdout.write(f"Log in as  username: {username}   password: {password}")
        else:
            self.stdout.write(f"Log in as  username: {username}   (password unchanged since it was created)")
        mode = "the local Runware sandbox" if settings.RUNWARE_SANDBOX else settings.RUNWARE_API_URL
        self.stdout.write(f"Generations go to {mode}.")
        budget = Budget.objects.filter(team=team, user=None).first()
        if budget is not None:
            self.stdout.write(
                f"Costs and budgets: {url}/costs/ (team budget ${budget.monthly_limit:.2f} a month)."
            )
        self.stdout.write("")

    def _make_samples(self, *, team: Team, user: Any, kinds: set[str]) -> None:
        # Each kind is checked on its own, so a run that stopped half-way is completed by the next one.
        with tempfile.TemporaryDirectory() as tmp:
            makers = {
                "image": lambda: make_character_png(Path(tmp) / "character.png"),
                "video": lambda: make_driving_video(
                    Path(tmp) / "driving.mp4", seconds=3, fps=16, width=480, height=832
                ),
            }
            for kind in sorted(kinds):
                path = makers[kind]()
                with open(path, "rb") as handle:
                    asset_create(team=team, user=user, kind=kind, uploaded_file=File(handle, name=path.name))
        self.stdout.write(f"Created sample media: {', '.join(sorted(kinds))}.")
