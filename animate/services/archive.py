"""Archiving (a soft delete) and purging (deleting the stored media files) outputs and generations.

Nothing here deletes a row: an archived output or generation leaves the gallery's default view but
stays in the ledger, the audit log and the archive view, and can be restored. An admin may purge
archived items, which deletes their stored video and poster files after the commit; the rows, and
every ledger row pointing at them, stay exactly as they were.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from animate import events
from animate.models import AuditEvent, Generation, Membership, Output
from animate.services.audit import audit_record
from animate.services.review import ReviewForbidden, ReviewRejected

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArchiveResult:
    outputs: list[int]
    generations: list[int]


def _check_team(membership: Membership, outputs: list[Output], generations: list[Generation]) -> None:
    if any(item.team_id != membership.team_id for item in [*outputs, *generations]):
        raise ReviewRejected({"items": "Choose outputs and generations of your own team."})
    if not outputs and not generations:
        raise ReviewRejected({"items": "Choose at least one output or generation."})


def _announce(team_id: int, result: ArchiveResult, *, archived: bool, purged: bool = False) -> None:
    events.publish_on_commit(
        events.team_group(team_id),
        {
            "type": "review.archived",
            "outputs": result.outputs,
            "generations": result.generations,
            "archived": archived,
            "purged": purged,
        },
    )


def archive_set(
    *,
    membership: Membership,
    outputs: Iterable[Output] = (),
    generations: Iterable[Generation] = (),
    archived: bool,
    ip: str | None = None,
) -> ArchiveResult:
    """Archive (or restore) outputs, and generations with all their outputs; returns what changed."""
    outputs, generations = list(outputs), list(generations)
    _check_team(membership, outputs, generations)
    action = AuditEvent.Action.ARCHIVED if archived else AuditEvent.Action.UNARCHIVED
    stamp = timezone.now() if archived else None
    with transaction.atomic():
        locked_generations = list(
            Generation.objects.select_for_update().filter(pk__in=[g.pk for g in generations]).order_by("pk")
        )
        output_ids = {output.pk for output in outputs}
        output_ids |= set(
            Output.objects.filter(generation__in=locked_generations).values_list("pk", flat=True)
        )
        locked_outputs = list(Output.objects.select_for_update().filter(pk__in=output_ids).order_by("pk"))
        if not archived and any(output.purged_at for output in locked_outputs):
            raise ReviewRejected({"items": "Purged outputs cannot be restored: their files are gone."})
        changed_generations = [g for g in locked_generations if (g.archived_at is None) == archived]
        changed_outputs = [o for o in locked_outputs if (o.archived_at is None) == archived]
        Generation.objects.filter(pk__in=[g.pk for g in changed_generations]).update(archived_at=stamp)
        Output.objects.filter(pk__in=[o.pk for o in changed_outputs]).update(archived_at=stamp)
        for item in [*changed_generations, *changed_outputs]:
            audit_record(action=action, team=membership.team_id, actor=membership.user, target=item, ip=ip)
        result = ArchiveResult(
            outputs=[o.pk for o in changed_outputs], generations=[g.pk for g in changed_generations]
        )
        _announce(membership.team_id, result, archived=archived)
    return result


def archive_purge(
    *,
    membership: Membership,
    outputs: Iterable[Output] = (),
    generations: Iterable[Generation] = (),
    ip: str | None = None,
) -> ArchiveResult:
    """Delete the stored files of archived outputs (an admin's decision); rows and ledger stay."""
    if membership.role != Membership.Role.ADMIN:
        raise ReviewForbidden("Only a team admin can purge stored media.")
    outputs, generations = list(outputs), list(generations)
    _check_team(membership, outputs, generations)
    with transaction.atomic():
        output_ids = {output.pk for output in outputs}
        output_ids |= set(Output.objects.filter(generation__in=generations).values_list("pk", flat=True))
        locked = list(Output.objects.select_for_update().filter(pk__in=output_ids).order_by("pk"))
        if any(output.archived_at is None for output in locked):
            raise ReviewRejected({"items": "Archive these outputs before purging them."})
        files = []
        purged = []
        now = timezone.now()
        for output in locked:
            if output.purged_at is not None:
                continue
            stored = (output.file.name, output.poster.name, output.original_file.name)
            names = [name for name in stored if name]
            files += [(output.file.storage, name) for name in names]
            output.file, output.poster, output.original_file, output.purged_at = "", "", "", now
            output.save(update_fields=["file", "poster", "original_file", "purged_at"])
            audit_record(
                action=AuditEvent.Action.PURGED,
                team=membership.team_id,
                actor=membership.user,
                target=output,
                detail={"generation": output.generation_id, "files": len(names)},
                ip=ip,
            )
            purged.append(output.pk)
        # Files go once the rows say so: a rollback leaves both, a crash after it leaves only orphans.
        transaction.on_commit(lambda: _delete_files(files))
        result = ArchiveResult(outputs=purged, generations=[g.pk for g in generations])
        _announce(membership.team_id, result, archived=True, purged=True)
    return result


def _delete_files(files: list[tuple[Any, str]]) -> None:
    for storage, name in files:
        try:
            storage.delete(name)
        except OSError:
            logger.exception("Could not delete purged file %s", name)
