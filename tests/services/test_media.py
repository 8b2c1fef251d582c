"""Uploads and results validated by content, probed, hashed and stored with posters, or not stored at all."""

import hashlib
import io
import os
import re
import struct
import uuid
import zlib
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import av
import pytest
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from PIL import Image

from animate.models import Asset, Generation, Output
from animate.samples import make_character_png, make_driving_video
from animate.services import media
from animate.services.media import (
    MediaRejected,
    asset_create,
    asset_warnings,
    output_store,
    probe_image,
    probe_video,
    windows_for,
)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def src(tmp_path: Path) -> Path:
    """Where test inputs are made, apart from MEDIA_ROOT so "nothing stored" can list the latter."""
    path = tmp_path / "src"
    path.mkdir()
    return path


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def upload(team, user, kind: str, path: Path, name: str | None = None) -> Asset:
    with path.open("rb") as handle:
        return asset_create(
            team=team, user=user, kind=kind, uploaded_file=File(handle, name=name or path.name)
        )


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def remux_faststart(source: Path, target: Path) -> Path:
    """The same clip with its index first, as phones and web encoders write MP4."""
    with av.open(str(source)) as inp, av.open(str(target), "w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    return target


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A tiny PNG whose header claims a huge picture: a decompression bomb in miniature."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * 1024)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )
    return path


def audio_only_mp4(path: Path) -> Path:
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=22050)
        frame = av.AudioFrame(format="s16", layout="mono", samples=1024)
        frame.planes[0].update(b"\x00\x00" * 1024)
        frame.sample_rate = 22050
        for index in range(20):
            frame.pts = index * 1024
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def matroska_h264(path: Path) -> Path:
    with av.open(str(path), "w", format="matroska") as container:
        stream = container.add_stream("libx264", rate=8)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        stream.time_base = Fraction(1, 8)
        for index in range(8):
            frame = av.VideoFrame.from_image(Image.new("RGB", (64, 64), (index * 30, 0, 0)))
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


# --- probe_image ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pillow_format", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_probe_image_identifies_png_jpeg_and_webp_by_content_not_name(src, pillow_format, content_type):
    path = src / "named-like-a-video.mp4"
    Image.new("RGB", (300, 200), (10, 20, 30)).save(path, format=pillow_format)

    info = probe_image(path)

    assert (info.format, info.content_type, info.width, info.height) == (
        pillow_format,
        content_type,
        300,
        200,
    )


def test_probe_image_refuses_other_image_formats(src):
    path = src / "anim.png"
    Image.new("RGB", (20, 20)).save(path, format="GIF")

    with pytest.raises(MediaRejected) as caught:
        probe_image(path)

    assert caught.value.field == "image"
    assert caught.value.message == "Character image: the file is a GIF image; use PNG, JPEG or WebP."


def test_probe_image_refuses_a_text_file_named_png(src):
    path = src / "notes.png"
    path.write_text("not an image at all\n" * 10)

    with pytest.raises(MediaRejected, match="Character image: the file is not an image"):
        probe_image(path)


def test_probe_image_refuses_an_empty_file(src):
    path = src / "empty.png"
    path.write_bytes(b"")

    with pytest.raises(MediaRejected, match=r"Character image: the file is empty \(0 bytes\)\."):
        probe_image(path)


def test_probe_image_refuses_a_truncated_png(src):
    whole = make_character_png(src / "whole.png", width=200, height=300)
    path = src / "cut.png"
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])

    with pytest.raises(MediaRejected, match="the image is incomplete or damaged"):
        probe_image(path)


def test_probe_image_refuses_more_pixels_than_the_setting_allows_before_decoding(settings, src):
    settings.ANIMATE_MAX_IMAGE_PIXELS = 10_000
    path = png_header_only(src / "claims.png", 200, 100)

    with pytest.raises(
        MediaRejected, match=r"the image is 200x100 pixels; the most allowed is 10,000 pixels"
    ):
        probe_image(path)


def test_probe_image_refuses_a_decompression_bomb_header(src):
    path = png_header_only(src / "bomb.png", 50_000, 50_000)

    with pytest.raises(MediaRejected) as caught:
        probe_image(path)

    assert caught.value.field == "image"
    assert "pixels" in caught.value.message


def test_probe_image_names_the_field_it_is_told(src):
    path = src / "x.png"
    path.write_bytes(b"")

    with pytest.raises(MediaRejected) as caught:
        probe_image(path, field="file")

    assert caught.value.field == "file"


# --- probe_video ---------------------------------------------------------------------------------


def test_probe_video_reads_an_mp4(src):
    path = make_driving_video(src / "clip.mp4", seconds=2, fps=16, width=320, height=480)

    info = probe_video(path)

    assert info == media.VideoInfo(
        width=320,
        height=480,
        codec="h264",
        container="mp4",
        fps=16.0,
        frames=32,
        duration=2.0,
        has_audio=False,
        content_type="video/mp4",
    )


def test_probe_video_tells_mov_from_mp4_by_the_brand(src):
    info = probe_video(make_driving_video(src / "clip.mov", seconds=1, fps=8))

    assert (info.container, info.content_type) == ("mov", "video/quicktime")


def test_probe_video_reads_webm_and_counts_frames_the_container_does_not_record(src):
    info = probe_video(make_driving_video(src / "clip.webm", seconds=2, fps=16, codec="libvpx-vp9"))

    assert (info.container, info.codec, info.content_type, info.frames) == ("webm", "vp9", "video/webm", 32)
    assert info.duration == pytest.approx(2.0, abs=0.01)


def test_probe_video_notices_an_audio_track(src):
    info = probe_video(make_driving_video(src / "talk.mp4", seconds=1, fps=8, with_audio=True))

    assert (info.has_audio, info.audio_codec) == (True, "aac")


def test_probe_video_judges_content_not_the_file_name(src):
    path = make_driving_video(src / "clip.mp4", seconds=1, fps=8)
    renamed = path.rename(src / "clip.png")

    assert probe_video(renamed).container == "mp4"


def empty_file(folder: Path) -> Path:
    path = folder / "x.mp4"
    path.write_bytes(b"")
    return path


def text_file(folder: Path) -> Path:
    path = folder / "x.mp4"
    path.write_text("hello, I am a text file\n" * 40)
    return path


def png_file(folder: Path) -> Path:
    return make_character_png(folder / "x.mp4", width=120, height=180)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (empty_file, "Driving video: the file is empty (0 bytes)."),
        (text_file, "Driving video: the file is not a video; use MP4, MOV or WebM."),
        (png_file, "Driving video: the file is a still image, not a video; use MP4, MOV or WebM."),
        (lambda folder: audio_only_mp4(folder / "x.mp4"), "Driving video: the file has no video stream."),
        (
            lambda folder: matroska_h264(folder / "x.mkv"),
            "Driving video: Matroska files are accepted only as WebM (VP8, VP9 or AV1), not h264.",
        ),
    ],
    ids=["empty", "text-renamed", "png-renamed", "audio-only", "mkv-h264"],
)
def test_probe_video_refuses_unusable_files_with_a_clear_message(src, make, message):
    with pytest.raises(MediaRejected) as caught:
        probe_video(make(src))

    assert (caught.value.field, caught.value.message) == ("video", message)


def test_probe_video_refuses_other_containers(src):
    path = src / "clip.avi"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=8)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for index in range(4):
            frame = av.VideoFrame.from_image(Image.new("RGB", (64, 64)))
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)

    with pytest.raises(
        MediaRejected, match=r"the file is AVI \(Audio Video Interleaved\), not MP4, MOV or WebM"
    ):
        probe_video(path)


def test_probe_video_refuses_an_mp4_cut_before_its_index(src):
    whole = make_driving_video(src / "whole.mp4", seconds=2, fps=16)
    path = src / "cut.mp4"
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])

    with pytest.raises(
        MediaRejected, match=r"Driving video: the file is incomplete or damaged; upload it again\."
    ):
        probe_video(path)


def test_probe_video_refuses_a_faststart_mp4_cut_short_although_its_index_is_whole(src):
    whole = remux_faststart(make_driving_video(src / "a.mp4", seconds=2, fps=16), src / "fast.mp4")
    path = src / "cut.mp4"
    path.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.6)])

    with pytest.raises(MediaRejected, match=r"the file is incomplete: it stops at 1\.\d s of 2\.0 s"):
        probe_video(path)


def test_probe_video_refuses_a_webm_cut_short(src):
    whole = make_driving_video(src / "a.webm", seconds=2, fps=16, codec="libvpx-vp9")
    path = src / "cut.webm"
    path.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.6)])

    with pytest.raises(MediaRejected, match="the file is incomplete"):
        probe_video(path)


def test_probe_video_refuses_clips_longer_than_the_setting(settings, src):
    settings.ANIMATE_MAX_VIDEO_SECONDS = 1
    path = make_driving_video(src / "long.mp4", seconds=2, fps=8)

    with pytest.raises(MediaRejected, match=r"the video is 2\.0 s long; the most allowed is 1 s\."):
        probe_video(path)


def test_probe_video_refuses_more_pixels_than_the_setting(settings, src):
    settings.ANIMATE_MAX_VIDEO_PIXELS = 100 * 100
    path = make_driving_video(src / "big.mp4", seconds=0.5, fps=8, width=128, height=128)

    with pytest.raises(MediaRejected, match=r"the video is 128x128; the most allowed is 10,000 pixels"):
        probe_video(path)


def test_probe_video_refuses_a_frame_rate_above_120(src):
    path = make_driving_video(src / "fast.mp4", seconds=0.1, fps=240, width=120, height=180)

    with pytest.raises(MediaRejected, match=r"the frame rate \(240 fps\) is not usable"):
        probe_video(path)


# --- asset_create --------------------------------------------------------------------------------


def test_asset_create_stores_an_image_with_its_metadata_and_a_jpeg_poster(settings, team, member, src):
    path = make_character_png(src / "Hero Shot.PNG", width=512, height=768)

    asset = upload(team, member, "image", path)

    asset.refresh_from_db()
    assert (asset.kind, asset.team, asset.uploaded_by) == ("image", team, member)
    assert (asset.content_type, asset.width, asset.height, asset.size) == (
        "image/png",
        512,
        768,
        path.stat().st_size,
    )
    assert asset.sha256 == sha256_of(path)
    assert asset.original_name == "Hero Shot.PNG"
    assert re.fullmatch(
        rf"teams/{team.pk}/assets/{asset.sha256[:2]}/{asset.sha256}-[0-9a-f]{{12}}\.png", asset.file.name
    )
    assert Path(asset.file.path).read_bytes() == path.read_bytes()
    with Image.open(asset.poster.path) as poster:
        assert poster.format == "JPEG"
        assert max(poster.size) <= 640
    assert len(stored_files(settings)) == 2


def test_asset_create_stores_a_video_with_probed_metadata_and_its_first_frame_as_poster(team, member, src):
    path = make_driving_video(src / "dance.mp4", seconds=1.5, fps=16, width=320, height=480, with_audio=True)

    asset = upload(team, member, "video", path)

    asset.refresh_from_db()
    assert (asset.kind, asset.content_type, asset.container, asset.codec) == (
        "video",
        "video/mp4",
        "mp4",
        "h264",
    )
    assert (asset.width, asset.height, asset.fps, asset.frames) == (320, 480, 16.0, 24)
    assert asset.duration == pytest.approx(1.5, abs=0.05)
    assert asset.has_audio is True
    assert re.search(rf"/{asset.sha256}-[0-9a-f]{{12}}\.mp4$", asset.file.name), asset.file.name
    with Image.open(asset.poster.path) as poster:
        assert (poster.format, poster.size) == ("JPEG", (320, 480))


def test_asset_create_names_the_stored_file_after_its_content_not_the_upload_name(team, member, src):
    path = make_driving_video(src / "clip.mp4", seconds=0.5, fps=8)

    asset = upload(team, member, "video", path, name="holiday.gif")

    assert asset.file.name.endswith(".mp4")
    assert asset.original_name == "holiday.gif"


def test_asset_create_reuses_the_asset_when_a_team_uploads_the_same_bytes_twice(settings, team, member, src):
    path = make_character_png(src / "a.png", width=120, height=180)
    first = upload(team, member, "image", path)

    again = upload(team, member, "image", path, name="copy.png")

    assert again.pk == first.pk
    assert Asset.objects.filter(team=team).count() == 1
    assert len(stored_files(settings)) == 2


def test_asset_create_keeps_separate_assets_for_separate_teams(team, other_team, member, outsider, src):
    path = make_character_png(src / "a.png", width=120, height=180)

    mine = upload(team, member, "image", path)
    theirs = upload(other_team, outsider, "image", path)

    assert mine.pk != theirs.pk
    assert mine.sha256 == theirs.sha256
    assert (mine.team, theirs.team) == (team, other_team)


def test_asset_create_accepts_a_streamed_temporary_upload_and_an_in_memory_one(team, member, src):
    video = make_driving_video(src / "clip.mp4", seconds=0.5, fps=8)
    streamed = TemporaryUploadedFile("clip.mp4", "video/mp4", video.stat().st_size, None)
    streamed.write(video.read_bytes())
    streamed.seek(0)
    image_bytes = make_character_png(src / "a.png", width=120, height=180).read_bytes()

    from_disk = asset_create(team=team, user=member, kind="video", uploaded_file=streamed)
    from_memory = asset_create(
        team=team,
        user=member,
        kind="image",
        uploaded_file=SimpleUploadedFile("a.png", image_bytes, "image/png"),
    )

    streamed.close()
    assert Path(from_disk.file.path).read_bytes() == video.read_bytes()
    assert Path(from_memory.file.path).read_bytes() == image_bytes
    assert from_memory.sha256 == hashlib.sha256(image_bytes).hexdigest()


def test_asset_create_refuses_an_oversized_file_before_reading_it(settings, team, member, src):
    settings.ANIMATE_MAX_VIDEO_BYTES = 1000
    path = make_driving_video(src / "clip.mp4", seconds=1, fps=8)

    with pytest.raises(MediaRejected) as caught:
        upload(team, member, "video", path)

    assert caught.value.field == "video"
    assert caught.value.message.startswith("Driving video: the file is ")
    assert "the most allowed is 0.0 MB" in caught.value.message
    assert not Asset.objects.exists()


@pytest.mark.parametrize(
    ("kind", "content"),
    [("image", b""), ("image", b"GIF89a" + b"\x00" * 64), ("video", b"plain text, not a video\n" * 50)],
    ids=["empty-image", "broken-gif", "text-video"],
)
def test_asset_create_stores_nothing_when_the_upload_is_rejected(settings, team, member, src, kind, content):
    path = src / "upload.bin"
    path.write_bytes(content)

    with pytest.raises(MediaRejected) as caught:
        upload(team, member, kind, path)

    assert caught.value.field == kind
    assert not Asset.objects.exists()
    assert stored_files(settings) == []


def test_asset_create_refuses_an_image_posted_as_the_driving_video(settings, team, member, src):
    path = make_character_png(src / "a.png", width=120, height=180)
    upload(team, member, "image", path)

    with pytest.raises(MediaRejected, match="Driving video: the file is a still image"):
        upload(team, member, "video", path)

    assert Asset.objects.filter(kind="video").count() == 0


def test_asset_create_deletes_the_files_it_wrote_when_the_insert_fails(
    settings, team, member, src, monkeypatch
):
    def failing_save(self, *args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Asset, "save", failing_save)
    path = make_driving_video(src / "clip.mp4", seconds=0.5, fps=8)

    with pytest.raises(RuntimeError):
        upload(team, member, "video", path)

    monkeypatch.undo()
    assert not Asset.objects.exists()
    assert stored_files(settings) == []


def test_asset_create_returns_the_winner_when_a_concurrent_upload_of_the_same_bytes_commits_first(
    settings, team, member, src, monkeypatch
):
    path = make_character_png(src / "a.png", width=120, height=180)
    real_probe = media.probe_image
    winner: dict[str, Asset | None] = {}

    def probe_while_another_request_commits(probe_path, *, field):
        info = real_probe(probe_path, field=field)
        if "asset" not in winner:
            winner["asset"] = None  # the competing upload below must probe normally, not race again
            winner["asset"] = upload(team, member, "image", path, name="other.png")
        return info

    monkeypatch.setattr(media, "probe_image", probe_while_another_request_commits)

    asset = upload(team, member, "image", path)

    assert asset.pk == winner["asset"].pk
    assert Asset.objects.filter(team=team).count() == 1
    assert sorted(str(p.relative_to(settings.MEDIA_ROOT)) for p in stored_files(settings)) == sorted(
        [asset.file.name, asset.poster.name]
    )


def test_asset_create_refuses_an_unknown_kind(team, member, src):
    with pytest.raises(ValueError, match="unknown asset kind"):
        upload(team, member, "audio", make_character_png(src / "a.png", width=120, height=180))


# --- output_store --------------------------------------------------------------------------------


def as_download(path: Path) -> Path:
    """The clip under the anonymous name a download gets, so nothing can be learnt from the name."""
    return path.rename(path.with_suffix(".part"))


@pytest.fixture
def generation(team, member, src) -> Generation:
    image = upload(team, member, "image", make_character_png(src / "hero.png", width=120, height=180))
    video = upload(team, member, "video", make_driving_video(src / "moves.mp4", seconds=1, fps=8))
    return Generation.objects.create(team=team, created_by=member, image=image, video=video)


def test_output_store_moves_the_download_into_storage_and_records_the_result(generation, src):
    result = as_download(
        make_driving_video(src / "result.webm", seconds=1, fps=16, width=320, height=480, codec="libvpx-vp9")
    )
    expected_bytes = result.read_bytes()
    video_uuid = uuid.uuid4()

    output = output_store(
        generation=generation,
        video_uuid=str(video_uuid),
        path=result,
        content_type="video/webm",
        seed=1234,
        nsfw=True,
        cost=Decimal("0.0212"),
    )

    output.refresh_from_db()
    assert (output.team_id, output.generation, output.video_uuid) == (
        generation.team_id,
        generation,
        video_uuid,
    )
    assert (output.content_type, output.container, output.codec) == ("video/webm", "webm", "vp9")
    assert (output.width, output.height, output.fps, output.frames) == (320, 480, 16.0, 16)
    assert (output.seed, output.nsfw, output.cost) == (1234, True, Decimal("0.0212"))
    assert output.sha256 == hashlib.sha256(expected_bytes).hexdigest()
    assert output.size == len(expected_bytes)
    folder = f"teams/{generation.team_id}/outputs/{generation.pk}"
    assert re.fullmatch(rf"{folder}/{video_uuid}-[0-9a-f]{{12}}\.webm", output.file.name), output.file.name
    assert Path(output.file.path).read_bytes() == expected_bytes
    with Image.open(output.poster.path) as poster:
        assert poster.format == "JPEG"
    assert not result.exists()


def test_output_store_trusts_the_content_over_the_declared_type(generation, src):
    result = as_download(make_driving_video(src / "result.mp4", seconds=0.5, fps=8))

    output = output_store(
        generation=generation, video_uuid=uuid.uuid4(), path=result, content_type="video/webm"
    )

    assert output.content_type == "video/mp4"


def test_output_store_is_idempotent_per_generation_and_video_uuid(settings, generation, src):
    video_uuid = uuid.uuid4()
    first = output_store(
        generation=generation,
        video_uuid=video_uuid,
        path=as_download(make_driving_video(src / "one.mp4", seconds=0.5, fps=8)),
        content_type="video/mp4",
    )
    files_before = stored_files(settings)
    duplicate = as_download(make_driving_video(src / "two.mp4", seconds=0.5, fps=8))

    again = output_store(
        generation=generation, video_uuid=video_uuid, path=duplicate, content_type="video/mp4"
    )

    assert again.pk == first.pk
    assert Output.objects.filter(generation=generation).count() == 1
    assert not duplicate.exists()
    assert stored_files(settings) == files_before


def test_two_stores_of_one_result_at_the_same_moment_never_lose_the_winners_file(
    settings, generation, src, monkeypatch
):
    # A webhook and a poll storing the same result both pass the storage's "is the name free?" check,
    # then both write (a local move or an S3 PUT replaces what is there). The one whose row then loses
    # on the unique constraint removes what it wrote: that must never be the winner's file.
    from django.core.files.storage import filesystem

    video_uuid = uuid.uuid4()
    winner: dict[str, Output | None] = {}

    def move_once_the_other_has_moved(old_name, new_name, **kwargs):
        if "output" not in winner and "/outputs/" in str(new_name):
            winner["output"] = None  # the competing store below moves normally
            winner["output"] = output_store(
                generation=generation,
                video_uuid=video_uuid,
                path=as_download(make_driving_video(src / "first.mp4", seconds=0.5, fps=8)),
                content_type="video/mp4",
            )
        os.rename(old_name, new_name)  # both already found the name free

    monkeypatch.setattr(filesystem, "file_move_safe", move_once_the_other_has_moved)

    ours = output_store(
        generation=generation,
        video_uuid=video_uuid,
        path=as_download(make_driving_video(src / "second.mp4", seconds=0.5, fps=12)),
        content_type="video/mp4",
    )

    kept = winner["output"]
    assert kept is not None and ours.pk == kept.pk
    assert hashlib.sha256(Path(kept.file.path).read_bytes()).hexdigest() == kept.sha256
    assert Path(kept.poster.path).exists()
    # Nothing of the loser is left: one result file, and the posters of the result and the two inputs.
    assert [p for p in stored_files(settings) if "/outputs/" in str(p)] == [Path(kept.file.path)]
    posters = {kept.poster.path, generation.image.poster.path, generation.video.poster.path}
    assert {str(p) for p in stored_files(settings) if "/posters/" in str(p)} == posters


def test_output_store_rejects_a_result_that_is_not_a_video_and_cleans_up(settings, generation, src):
    files_before = stored_files(settings)
    junk = src / "result.part"
    junk.write_bytes(b"<html>error page</html>")

    with pytest.raises(MediaRejected) as caught:
        output_store(generation=generation, video_uuid=uuid.uuid4(), path=junk, content_type="video/mp4")

    assert caught.value.field == "file"
    assert caught.value.message.startswith("Result video: ")
    assert not Output.objects.exists()
    assert not junk.exists()
    assert stored_files(settings) == files_before


# --- advice --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("frames", "windows"), [(0, 1), (1, 1), (77, 1), (78, 2), (154, 2), (155, 3)])
def test_windows_for_counts_77_frame_windows(frames, windows):
    assert windows_for(frames) == windows


def video(**fields) -> Asset:
    values = {"width": 720, "height": 1280, "fps": 24.0, "frames": 144, "duration": 6.0, "has_audio": False}
    return Asset(kind="video", **{**values, **fields})


def test_asset_warnings_are_empty_for_a_short_clean_clip():
    assert asset_warnings(video()) == []
    assert asset_warnings(video(fps=29.97, frames=180)) == []


def test_asset_warnings_flag_a_long_clip_with_its_window_count():
    (warning,) = asset_warnings(video(duration=20.0, frames=480))

    assert warning.startswith("Long clip (20 s, 7 windows of 77 frames)")


@pytest.mark.parametrize("fps", [8.0, 47.95, 60.0, 20.0])
def test_asset_warnings_flag_an_unusual_frame_rate(fps):
    (warning,) = asset_warnings(video(fps=fps, frames=int(6 * fps)))

    assert warning.startswith(f"Unusual frame rate ({fps:g} fps)")


def test_asset_warnings_remind_that_replace_mode_expects_one_person():
    assert asset_warnings(video(), mode="animate") == []
    assert asset_warnings(video(), mode="replace") == [
        "Replace mode swaps one person: use a driving video with a single person in frame."
    ]


def test_asset_warnings_flag_sound_only_when_the_run_would_drop_it_and_a_tiny_picture():
    small = "Small picture (160x240): results are rendered larger, so fine detail will look soft."
    clip = video(has_audio=True, width=160, height=240)

    # "Keep the driving video's audio" is on by default: the results get the sound back.
    assert asset_warnings(clip) == [small]
    assert asset_warnings(clip, keep_audio=False) == [
        small,
        "The driving video has sound; the model ignores audio, so results are silent.",
    ]


def test_asset_warnings_for_an_image_only_concern_its_size():
    assert asset_warnings(Asset(kind="image", width=1024, height=1024), mode="replace") == []
    assert len(asset_warnings(Asset(kind="image", width=100, height=300))) == 1


def test_poster_of_a_transparent_image_is_laid_on_white(team, member, src):
    path = src / "cutout.png"
    Image.new("RGBA", (100, 100), (255, 0, 0, 0)).save(path)

    asset = upload(team, member, "image", path)

    with Image.open(asset.poster.path) as poster:
        assert poster.convert("RGB").getpixel((50, 50)) == pytest.approx((255, 255, 255), abs=3)


def test_image_probe_does_not_depend_on_the_upload_being_seekable_from_the_start(team, member, src):
    data = make_character_png(src / "a.png", width=120, height=180).read_bytes()
    handle = io.BytesIO(data)
    handle.read(10)  # a caller that already sniffed the first bytes

    asset = asset_create(team=team, user=member, kind="image", uploaded_file=File(handle, name="a.png"))

    assert asset.size == len(data)
