"""Archive and purge: nothing is deleted but files; the ledger and the audit trail are untouched."""

from decimal import Decimal

import pytest
from django.core.files.storage import default_storage

from animate.models import AuditEvent, CostEntry, Generation, Membership, Output
from animate.services import archive
from animate.services.review import ReviewForbidden, ReviewRejected
from tests.reviewkit import result, run


def _m(user) -> Membership:
    return Membership.objects.select_related("team").get(user=user)


@pytest.fixture
def charged(member, image_asset, video_asset):
    """A generation with two stored outputs (real files) and a ledger row for each."""
    generation = run(member, image_asset, video_asset, actual_cost=Decimal("0.0600"))
    outputs = [result(generation, with_files=True) for _ in range(2)]
    for output in outputs:
        CostEntry.objects.create(
            team_id=generation.team_id,
            generation=generation,
            video_uuid=output.video_uuid,
            user=member,
            key=f"{generation.task_uuid}:{output.video_uuid}",
            amount=Decimal("0.0300"),
        )
    return generation, outputs


def _ledger() -> list[tuple]:
    return list(
        CostEntry.objects.order_by("pk").values_list("pk", "generation_id", "video_uuid", "amount", "key")
    )


def test_archiving_a_generation_archives_its_outputs_and_restoring_brings_them_back(member, charged):
    generation, outputs = charged
    ledger = _ledger()

    done = archive.archive_set(membership=_m(member), generations=[generation], archived=True, ip="10.1.1.1")
    again = archive.archive_set(membership=_m(member), generations=[generation], archived=True)

    generation.refresh_from_db()
    assert generation.archived_at is not None
    assert all(o.archived_at for o in Output.objects.filter(generation=generation))
    assert sorted(done.outputs) == sorted(o.pk for o in outputs) and done.generations == [generation.pk]
    assert again.outputs == [] and again.generations == []
    assert AuditEvent.objects.filter(action="archived").count() == 3
    archive.archive_set(membership=_m(member), generations=[generation], archived=False)
    assert not Output.objects.filter(archived_at__isnull=False).exists()
    assert AuditEvent.objects.filter(action="unarchived").count() == 3
    assert _ledger() == ledger


def test_purging_deletes_the_stored_files_but_keeps_rows_and_the_ledger(
    admin, charged, django_capture_on_commit_callbacks
):
    generation, outputs = charged
    names = [name for o in outputs for name in (o.file.name, o.poster.name)]
    assert all(default_storage.exists(name) for name in names)
    ledger = _ledger()
    archive.archive_set(membership=_m(admin), outputs=outputs, archived=True)

    with django_capture_on_commit_callbacks(execute=True):
        purged = archive.archive_purge(membership=_m(admin), generations=[generation])

    assert sorted(purged.outputs) == sorted(o.pk for o in outputs)
    assert not any(default_storage.exists(name) for name in names)
    for output in outputs:
        output.refresh_from_db()
        assert output.purged_at is not None and not output.file and not output.poster
    assert Generation.objects.filter(pk=generation.pk).exists() and Output.objects.count() == 2
    assert _ledger() == ledger
    assert AuditEvent.objects.filter(action="purged").count() == 2
    with pytest.raises(ReviewRejected):
        archive.archive_set(membership=_m(admin), outputs=outputs, archived=False)


def test_only_an_admin_purges_and_only_what_is_archived(member, admin, charged):
    _, outputs = charged

    with pytest.raises(ReviewForbidden):
        archive.archive_purge(membership=_m(member), outputs=outputs)
    with pytest.raises(ReviewRejected):
        archive.archive_purge(membership=_m(admin), outputs=outputs)
    assert all(default_storage.exists(o.file.name) for o in outputs)


def test_nothing_of_another_team_is_archived(outsider, charged):
    _generation, outputs = charged

    with pytest.raises(ReviewRejected):
        archive.archive_set(membership=_m(outsider), outputs=outputs, archived=True)
    with pytest.raises(ReviewRejected):
        archive.archive_set(membership=_m(outsider), archived=True)
    assert not Output.objects.filter(archived_at__isnull=False).exists()


def test_a_ledger_row_still_protects_its_generation(charged):
    generation, _ = charged
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        generation.delete()


def test_purging_a_result_with_the_driving_audio_deletes_runware_s_original_too(
    admin, charged, django_capture_on_commit_callbacks
):
    from django.core.files.base import ContentFile

    generation, outputs = charged
    kept = outputs[0]
    name = f"teams/{generation.team_id}/outputs/original.mp4"
    original = default_storage.save(name, ContentFile(b"runware"))
    Output.objects.filter(pk=kept.pk).update(audio="kept", original_file=original, original_sha256="1" * 64)
    archive.archive_set(membership=_m(admin), outputs=[kept], archived=True)

    with django_capture_on_commit_callbacks(execute=True):
        archive.archive_purge(membership=_m(admin), outputs=[kept])

    kept.refresh_from_db()
    assert not default_storage.exists(original) and not kept.original_file and kept.purged_at is not None
