"""Media in and out: uploads validated by content, probed, hashed and stored with a poster.

A file's name and declared type are never trusted: Pillow and PyAV decide what a file is, and the stored
name, extension and ``content_type`` come from what they found. Every limit is a setting read at call
time (``ANIMATE_MAX_*``), so tests and deployments can tighten them.

Files are written to storage *before* the row is inserted and deleted again if anything fails, so a
rejected or failed upload leaves neither a row nor a file behind. The insert gets its own short
``transaction.atomic()``; the file copy stays outside it because on SQLite the transaction holds the
database write lock, and copying a 500 MB upload must not block every other writer.
"""

import hashlib
import io
import logging
import math
import os
import tempfile
import uuid
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import av
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from PIL import Image, ImageOps, UnidentifiedImageError

from animate.models import Asset, Generation, Output, Team

logger = logging.getLogger(__name__)

FIELD_LABELS = {"image": "Character image", "video": "Driving video", "file": "Result video"}

IMAGE_FORMATS = {
    "PNG": ("image/png", ".png"),
    "JPEG": ("image/jpeg", ".jpg"),
    "WEBP": ("image/webp", ".webp"),
}
VIDEO_CONTAINERS = {
    "mp4": ("video/mp4", ".mp4"),
    "mov": ("video/quicktime", ".mov"),
    "webm": ("video/webm", ".webm"),
}
# FFmpeg names one demuxer per family; which member a file is comes from its brand or codecs.
MOV_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2"
MATROSKA_FAMILY = "matroska,webm"
# WebM is the Matroska subset with these video codecs; any other codec means a general .mkv file.
WEBM_VIDEO_CODECS = frozenset({"vp8", "vp9", "av1"})
MAX_FPS = 120
POSTER_SIZE = (640, 640)
MB = 1024 * 1024
HASH_CHUNK = MB

# The model works on windows of 77 frames (Wan2.2's clip length); longer clips are stitched from several.
WINDOW_FRAMES = 77
LONG_CLIP_SECONDS = 10
COMMON_FPS = (12, 15, 16, 23.976, 24, 25, 29.97, 30)
MIN_COMFORTABLE_FPS = 12
MAX_COMFORTABLE_FPS = 30
SMALL_SIDE_PIXELS = 256


class MediaRejected(Exception):
    """Input that cannot be used; ``field`` names the form field, ``message`` is for a person."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    format: str
    content_type: str

    @property
    def extension(self) -> str:
        return IMAGE_FORMATS[self.format][1]


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    codec: str
    container: str
    fps: float
    frames: int
    duration: float
    has_audio: bool
    content_type: str
    # FFmpeg's name of the first audio track's codec ("aac", "opus"...); blank without audio.
    audio_codec: str = ""

    @property
    def extension(self) -> str:
        return VIDEO_CONTAINERS[self.container][1]


def _reject(field: str, text: str) -> MediaRejected:
    return MediaRejected(field, f"{FIELD_LABELS.get(field, field)}: {text}")


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _megabytes(size: int) -> str:
    return f"{size / MB:.1f} MB"


def _check_not_empty(field: str, size: int) -> None:
    if size == 0:
        raise _reject(field, "the file is empty (0 bytes).")


# --- images --------------------------------------------------------------------------------------


def probe_image(path: Path | str, *, field: str = "image") -> ImageInfo:
    """Identify and fully decode a still image; PNG, JPEG and WebP only."""
    path = Path(path)
    _check_not_empty(field, path.stat().st_size)
    max_pixels = _limit("ANIMATE_MAX_IMAGE_PIXELS", 40_000_000)
    try:
        # Pillow's own bomb guard only warns between 1x and 2x its MAX_IMAGE_PIXELS; as an error it
        # stops such files before any pixel is decoded, whatever our own limit is set to.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:  # reads the header only
                image_format = image.format or ""
                width, height = image.size
                if image_format not in IMAGE_FORMATS:
                    raise _reject(
                        field, f"the file is a {image_format or 'unknown'} image; use PNG, JPEG or WebP."
                    )
                if width * height > max_pixels:
                    raise _reject(
                        field,
                        f"the image is {width}x{height} pixels; the most allowed is {max_pixels:,} pixels.",
                    )
                image.verify()
            # verify() checks structure without decoding; load() proves every pixel decodes.
            with Image.open(path) as image:
                image.load()
    except MediaRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _reject(field, "the image declares too many pixels to be opened safely.") from None
    except UnidentifiedImageError:
        raise _reject(field, "the file is not an image; use PNG, JPEG or WebP.") from None
    except Exception:
        # Pillow's decoders report damage with many types (OSError, SyntaxError, ValueError, EOFError,
        # struct.error); any of them means the same thing to the person uploading.
        raise _reject(field, "the image is incomplete or damaged; export it again and retry.") from None
    content_type = IMAGE_FORMATS[image_format][0]
    return ImageInfo(width=width, height=height, format=image_format, content_type=content_type)


def _jpeg_bytes(image: Image.Image) -> bytes:
    image.thumbnail(POSTER_SIZE)
    if image.mode in {"RGBA", "LA", "PA"} or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels would turn black in a JPEG; lay them on white like a browser page.
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, (255, 255, 255))
        image.paste(rgba, mask=rgba.getchannel("A"))
    elif image.mode != "RGB":
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=82, optimize=True)
    return buffer.getvalue()


def _image_poster(path: Path) -> bytes:
    with Image.open(path) as image:
        image.draft("RGB", POSTER_SIZE)
        # Phone photos store their rotation in EXIF; the poster should stand the way people see it.
        return _jpeg_bytes(ImageOps.exif_transpose(image))


# --- videos --------------------------------------------------------------------------------------


def _looks_like_video(path: Path) -> bool:
    """True when the first bytes are an MP4/MOV box header or a Matroska/WebM EBML header."""
    with path.open("rb") as handle:
        head = handle.read(12)
    return (
        head[4:8] in {b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"} or head[:4] == b"\x1a\x45\xdf\xa3"
    )


def probe_video(path: Path | str, *, field: str = "video") -> VideoInfo:
    """Open a video with PyAV and check it is a complete MP4, MOV or WebM the model can use.

    All video packets are demuxed (read, not decoded) once: it is the only reliable way to notice a file
    cut short whose index still promises the full length, and it counts frames for containers that do
    not record them. Only the first frame is decoded.
    """
    path = Path(path)
    _check_not_empty(field, path.stat().st_size)
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError:
        if _looks_like_video(path):
            raise _reject(field, "the file is incomplete or damaged; upload it again.") from None
        raise _reject(field, "the file is not a video; use MP4, MOV or WebM.") from None
    with container:
        return _probe_open_video(container, field)


def _probe_open_video(container: Any, field: str) -> VideoInfo:
    format_name = container.format.name
    if format_name.endswith("_pipe") or format_name == "image2":
        raise _reject(field, "the file is a still image, not a video; use MP4, MOV or WebM.")
    if format_name not in {MOV_FAMILY, MATROSKA_FAMILY}:
        raise _reject(field, f"the file is {container.format.long_name}, not MP4, MOV or WebM.")
    if not container.streams.video:
        raise _reject(field, "the file has no video stream.")
    stream = container.streams.video[0]
    codec = stream.codec_context.codec.canonical_name
    if format_name == MOV_FAMILY:
        kind = "mov" if container.metadata.get("major_brand", "").strip() == "qt" else "mp4"
    elif codec in WEBM_VIDEO_CODECS:
        kind = "webm"
    else:
        raise _reject(field, f"Matroska files are accepted only as WebM (VP8, VP9 or AV1), not {codec}.")

    width, height = stream.codec_context.width, stream.codec_context.height
    max_pixels = _limit("ANIMATE_MAX_VIDEO_PIXELS", 3840 * 2160)
    if width <= 0 or height <= 0:
        raise _reject(field, "the video stream has no picture size.")
    if width * height > max_pixels:
        raise _reject(
            field, f"the video is {width}x{height}; the most allowed is {max_pixels:,} pixels (4K)."
        )

    rate = stream.average_rate or stream.guessed_rate
    fps = float(rate) if rate else 0.0
    if not 0 < fps <= MAX_FPS:
        raise _reject(
            field, f"the frame rate ({fps:g} fps) is not usable; it must be above 0 and at most 120."
        )

    max_seconds = _limit("ANIMATE_MAX_VIDEO_SECONDS", 120)
    declared = _declared_duration(container, stream)
    if declared is not None and declared > max_seconds:
        raise _reject(field, f"the video is {declared:.1f} s long; the most allowed is {max_seconds} s.")

    packets, reached, decoded = _scan_video(container, stream, field, max_packets=max_seconds * MAX_FPS + 1)
    if not decoded:
        raise _reject(field, "no frame of the video could be decoded; the file may be damaged.")
    # Two frames of slack plus 5% covers rounding and an audio track that outlasts the picture.
    if declared is not None and reached + max(2 / fps, 0.05 * declared) < declared:
        raise _reject(
            field,
            f"the file is incomplete: it stops at {reached:.1f} s of {declared:.1f} s; upload it again.",
        )
    duration = declared if declared else (reached or packets / fps)
    if duration <= 0:
        raise _reject(field, "the video has no length.")
    if duration > max_seconds:
        raise _reject(field, f"the video is {duration:.1f} s long; the most allowed is {max_seconds} s.")
    return VideoInfo(
        width=width,
        height=height,
        codec=codec,
        container=kind,
        fps=round(fps, 3),
        frames=stream.frames or packets,
        duration=round(duration, 3),
        has_audio=bool(container.streams.audio),
        content_type=VIDEO_CONTAINERS[kind][0],
        audio_codec=container.streams.audio[0].codec_context.name[:32] if container.streams.audio else "",
    )


def _declared_duration(container: Any, stream: Any) -> float | None:
    """Seconds the file says it lasts: the video stream's own duration, else the container's."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration and container.duration > 0:
        return container.duration / av.time_base
    return None


def _scan_video(container: Any, stream: Any, field: str, *, max_packets: int) -> tuple[int, float, bool]:
    """Demux every video packet: (packets, seconds reached, whether the first frame decoded)."""
    packets = 0
    reached = 0.0
    decoded = False
    start = stream.start_time or 0
    try:
        for packet in container.demux(stream):
            if not decoded:
                # The flush packet at the end (size 0) still drains frames a decoder held back.
                decoded = any(True for _ in packet.decode())
            if packet.size == 0:
                continue
            packets += 1
            if packets > max_packets:
                raise _reject(field, "the video has more frames than the longest allowed clip.")
            if packet.pts is not None and packet.time_base:
                reached = max(
                    reached, float((packet.pts - start + (packet.duration or 0)) * packet.time_base)
                )
    except av.FFmpegError:
        raise _reject(field, "the file is incomplete or damaged; upload it again.") from None
    return packets, reached, decoded


def _video_poster(path: Path) -> bytes:
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        frame = next(container.decode(stream))
        return _jpeg_bytes(frame.to_image())


# --- storing -------------------------------------------------------------------------------------


def _sha256(chunks: Iterable[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _path_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            yield chunk


@contextmanager
def _hashed_local_file(uploaded: UploadedFile | File) -> Iterator[tuple[Path, str, int]]:
    """A path on local disk holding the upload's bytes, with their sha256 and size, read in chunks.

    Uploads streamed to disk (the project's only upload handler) and ``File`` objects over real files
    are used in place; anything else is spooled to a temporary file while it is hashed.
    """
    temporary_path = getattr(uploaded, "temporary_file_path", None)
    name = getattr(uploaded.file, "name", None)
    if temporary_path is not None or (isinstance(name, str) and os.path.isfile(name)):
        path = Path(temporary_path() if temporary_path is not None else name)  # type: ignore[arg-type]
        yield path, *_sha256(_path_chunks(path))
        return
    with tempfile.NamedTemporaryFile(prefix="animate-upload-", delete=False) as spool:
        digest = hashlib.sha256()
        size = 0
        for chunk in uploaded.chunks(HASH_CHUNK):
            digest.update(chunk)
            spool.write(chunk)
            size += len(chunk)
    try:
        yield Path(spool.name), digest.hexdigest(), size
    finally:
        os.unlink(spool.name)


class _MovableFile(File):
    """A local file that FileSystemStorage may move into place instead of copying."""

    def temporary_file_path(self) -> str:
        return str(self.name)


def _store_with_files(instance: Asset | Output, *, name: str, content: File, poster: bytes) -> None:
    written: list[models.fields.files.FieldFile] = []
    try:
        instance.file.save(name, content, save=False)
        written.append(instance.file)
        instance.poster.save("poster.jpg", ContentFile(poster), save=False)
        written.append(instance.poster)
        with transaction.atomic():
            instance.save(force_insert=True)
    except BaseException:
        for field_file in written:
            field_file.storage.delete(field_file.name)
        raise


@dataclass(frozen=True)
class StoredAsset:
    asset: Asset
    # The team had these bytes already (this request, or one racing it, did not create the row).
    reused: bool


def asset_create(*, team: Team, user: Any, kind: str, uploaded_file: UploadedFile | File) -> Asset:
    """Validate, hash and store an upload; the same bytes uploaded again in a team reuse their Asset."""
    return asset_store(team=team, user=user, kind=kind, uploaded_file=uploaded_file).asset


def asset_store(*, team: Team, user: Any, kind: str, uploaded_file: UploadedFile | File) -> StoredAsset:
    """``asset_create``, telling whether the asset was new or the team's existing one for these bytes."""
    if kind not in Asset.Kind.values:
        raise ValueError(f"unknown asset kind {kind!r}")
    field = kind  # the upload form names its fields after the kinds
    limit = (
        _limit("ANIMATE_MAX_IMAGE_BYTES", 20 * MB)
        if kind == Asset.Kind.IMAGE
        else _limit("ANIMATE_MAX_VIDEO_BYTES", 500 * MB)
    )
    declared_size = uploaded_file.size or 0
    _check_not_empty(field, declared_size)
    if declared_size > limit:
        raise _reject(
            field, f"the file is {_megabytes(declared_size)}; the most allowed is {_megabytes(limit)}."
        )

    with _hashed_local_file(uploaded_file) as (path, sha256, size):
        existing = Asset.objects.filter(team=team, sha256=sha256, kind=kind).first()
        if existing is not None:
            return StoredAsset(existing, reused=True)
        asset = Asset(
            team=team,
            uploaded_by=user if getattr(user, "is_authenticated", False) else None,
            kind=kind,
            original_name=os.path.basename(uploaded_file.name or "")[:255],
            sha256=sha256,
            size=size,
        )
        if kind == Asset.Kind.IMAGE:
            image = probe_image(path, field=field)
            asset.content_type, asset.width, asset.height = image.content_type, image.width, image.height
            poster, extension = _image_poster(path), image.extension
        else:
            video = probe_video(path, field=field)
            _apply_video_info(asset, video)
            poster, extension = _video_poster(path), video.extension
        try:
            _store_with_files(asset, name=f"{sha256}{extension}", content=uploaded_file, poster=poster)
        except IntegrityError:
            # Another request stored the same bytes between the lookup above and this insert.
            existing = Asset.objects.filter(team=team, sha256=sha256).first()
            if existing is None:
                raise
            return StoredAsset(existing, reused=True)
    return StoredAsset(asset, reused=False)


def upload_content_kind(uploaded_file: UploadedFile | File) -> str | None:
    """What an upload's bytes are (``image`` or ``video``) whatever its name says; None when neither.
    Nothing is stored."""
    with _hashed_local_file(uploaded_file) as (path, _sha256, _size):
        for kind, probe in ((Asset.Kind.IMAGE, probe_image), (Asset.Kind.VIDEO, probe_video)):
            try:
                probe(path)
            except MediaRejected:
                continue
            return kind
    return None


def _apply_video_info(instance: Asset | Output, info: VideoInfo) -> None:
    instance.content_type = info.content_type
    instance.width, instance.height = info.width, info.height
    instance.fps, instance.frames, instance.duration = info.fps, info.frames, info.duration
    instance.codec, instance.container = info.codec, info.container
    if isinstance(instance, Asset):
        instance.has_audio, instance.audio_codec = info.has_audio, info.audio_codec


def output_store(
    *,
    generation: Generation,
    video_uuid: uuid.UUID | str,
    path: Path | str,
    content_type: str,
    seed: int | None = None,
    nsfw: bool = False,
    cost: Decimal | None = None,
) -> Output:
    """Store a downloaded result video as the Output of (generation, video_uuid), at most once.

    Takes ownership of ``path``: the file is moved into storage, or deleted when the Output already
    exists or the video is rejected. ``content_type`` is what the provider declared; the stored type
    comes from the content.
    """
    path = Path(path)
    video_uuid = uuid.UUID(str(video_uuid))
    try:
        existing = Output.objects.filter(generation=generation, video_uuid=video_uuid).first()
        if existing is not None:
            return existing
        info = probe_video(path, field="file")
        declared = content_type.split(";")[0].strip().lower()
        if declared and declared != info.content_type:
            logger.info("result %s declared %s but holds %s", video_uuid, declared, info.content_type)
        output = _new_output(generation, video_uuid, path, info, seed=seed, nsfw=nsfw, cost=cost)
        poster = _video_poster(path)
        try:
            with path.open("rb") as handle:
                content = _MovableFile(handle, name=str(path))
                _store_with_files(
                    output, name=f"{video_uuid}{info.extension}", content=content, poster=poster
                )
        except IntegrityError:
            # A duplicate delivery of the same result won the race; its Output is the one to keep.
            existing = Output.objects.filter(generation=generation, video_uuid=video_uuid).first()
            if existing is None:
                raise
            return existing
        return output
    finally:
        path.unlink(missing_ok=True)


def _new_output(
    generation: Generation,
    video_uuid: uuid.UUID,
    path: Path,
    info: VideoInfo,
    *,
    seed: int | None,
    nsfw: bool,
    cost: Decimal | None,
) -> Output:
    """An unsaved Output of the video at ``path``, hashed and described from its probe."""
    sha256, size = _sha256(_path_chunks(path))
    output = Output(
        team_id=generation.team_id,
        generation=generation,
        video_uuid=video_uuid,
        sha256=sha256,
        size=size,
        seed=seed,
        nsfw=nsfw,
        cost=cost,
    )
    _apply_video_info(output, info)
    return output


def output_adopt(
    *,
    generation: Generation,
    video_uuid: uuid.UUID | str,
    name: str,
    path: Path,
    seed: int | None = None,
    nsfw: bool = False,
    cost: Decimal | None = None,
) -> Output:
    """The Output of a result whose bytes are already in storage under ``name`` (delivered by
    ``uploadEndpoint``), probed and hashed from ``path``, a local copy of them that stays the caller's.

    Nothing is copied again: the row points at the stored object. Raises MediaRejected when the bytes
    are not a usable video.
    """
    video_uuid = uuid.UUID(str(video_uuid))
    existing = Output.objects.filter(generation=generation, video_uuid=video_uuid).first()
    if existing is not None:
        return existing
    info = probe_video(path, field="file")
    output = _new_output(generation, video_uuid, path, info, seed=seed, nsfw=nsfw, cost=cost)
    output.file.name = name
    poster = _video_poster(path)
    try:
        output.poster.save("poster.jpg", ContentFile(poster), save=False)
        try:
            with transaction.atomic():
                output.save(force_insert=True)
        except BaseException:
            output.poster.storage.delete(output.poster.name)
            raise
    except IntegrityError:
        existing = Output.objects.filter(generation=generation, video_uuid=video_uuid).first()
        if existing is None:
            raise
        return existing
    return output


# --- advice --------------------------------------------------------------------------------------


def windows_for(frames: int) -> int:
    """How many 77-frame windows the model runs for a clip of ``frames`` frames (at least one)."""
    return max(1, math.ceil(frames / WINDOW_FRAMES))


def asset_warnings(asset: Asset, *, mode: str | None = None, keep_audio: bool = True) -> list[str]:
    """Things about an input that are allowed but likely to disappoint with this model.

    Frame rate: the model renders 16 fps by default and accepts 4-60 fps; driving clips at a common
    rate between 12 and 30 fps map onto that cleanly, while very low rates give jerky motion and high or
    odd rates (e.g. 47.95 or 60 fps screen captures) are resampled, which can stutter.
    """
    warnings_: list[str] = []
    if min(asset.width, asset.height) < SMALL_SIDE_PIXELS:
        warnings_.append(
            f"Small picture ({asset.width}x{asset.height}): results are rendered larger, so fine detail "
            "will look soft."
        )
    if asset.kind != Asset.Kind.VIDEO:
        return warnings_
    duration = asset.duration or 0.0
    if duration > LONG_CLIP_SECONDS:
        windows = windows_for(asset.frames or 0)
        warnings_.append(
            f"Long clip ({duration:.0f} s, {windows} windows of {WINDOW_FRAMES} frames): faces and motion "
            f"can drift from window to window; clips under {LONG_CLIP_SECONDS} s hold together best."
        )
    fps = asset.fps or 0.0
    common = any(abs(fps - rate) < 0.05 for rate in COMMON_FPS)
    if not MIN_COMFORTABLE_FPS <= fps <= MAX_COMFORTABLE_FPS or not common:
        warnings_.append(
            f"Unusual frame rate ({fps:g} fps): clips at 12-30 fps (15, 16, 24, 25 or 30) keep motion "
            "smooth; other rates are resampled and may stutter."
        )
    if mode == "replace":
        warnings_.append("Replace mode swaps one person: use a driving video with a single person in frame.")
    if asset.has_audio and not keep_audio:
        # With the run's "Keep the driving video's audio" on (its default), results get the sound back.
        warnings_.append("The driving video has sound; the model ignores audio, so results are silent.")
    return warnings_


def asset_summary(asset: Asset, *, mode: str | None = None) -> dict[str, Any]:
    """What people are told about an uploaded input (page and API alike), with site-relative URLs."""
    is_video = asset.kind == Asset.Kind.VIDEO
    return {
        "id": asset.pk,
        "kind": asset.kind,
        "name": asset.original_name,
        "content_type": asset.content_type,
        "size": asset.size,
        "url": reverse("media-asset", kwargs={"pk": asset.pk}),
        "poster": reverse("media-asset-poster", kwargs={"pk": asset.pk}) if asset.poster else None,
        "width": asset.width,
        "height": asset.height,
        "fps": asset.fps,
        "frames": asset.frames,
        "duration": asset.duration,
        "codec": asset.codec,
        "has_audio": asset.has_audio,
        "audio_codec": asset.audio_codec,
        "windows": windows_for(asset.frames or 0) if is_video else None,
        "warnings": asset_warnings(asset, mode=mode),
    }
