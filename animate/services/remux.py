"""The driving video's sound put back into a result: the model ignores audio, so Runware's files are silent.

``audio_remux`` writes a new file in the result's own container: the result's video packets copied one for
one (never re-encoded, so the picture is bit for bit Runware's), and the driving video's audio, copied as
it is when the container takes that codec and the track already lines up with the picture, else decoded
and encoded again (AAC for MP4/MOV, Opus for WebM), cut or padded with silence so that it ends within one
frame of the picture.

``output_audio_attach`` applies that to a stored Output after ingestion: the re-muxed file becomes the one
people play and download, Runware's own file stays beside it in ``original_file``. Anything that goes wrong
leaves the Output exactly as it was (Runware's file) with the reason recorded, so a result is never lost
to its soundtrack.
"""

import contextlib
import hashlib
import heapq
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from django.core.files import File
from django.db import transaction

from animate.models import Output

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ContainerAudio:
    # Audio codecs (FFmpeg's names) stored as they are; browsers play all of them in this container.
    copies: frozenset[str]
    # What any other audio becomes: encoder, sample format, and the sample rates it takes (None: any).
    encoder: str
    sample_format: str
    rates: tuple[int, ...] | None


# The containers Runware delivers for this model (outputFormat MP4, WEBM, MOV).
CONTAINER_AUDIO = {
    "mp4": ContainerAudio(frozenset({"aac", "mp3"}), "aac", "fltp", None),
    "mov": ContainerAudio(frozenset({"aac", "mp3", "alac"}), "aac", "fltp", None),
    # WebM allows only Opus and Vorbis; libopus encodes at these rates only.
    "webm": ContainerAudio(
        frozenset({"opus", "vorbis"}), "libopus", "s16", (48000, 24000, 16000, 12000, 8000)
    ),
}
AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000)
AUDIO_BITRATE = 128_000
CHUNK_SAMPLES = 1024


class RemuxFailed(Exception):
    """The files could not be combined; the message says why, for a person."""


@dataclass(frozen=True)
class Remuxed:
    audio_codec: str
    # True when the driving video's audio packets were stored unchanged.
    copied: bool
    source_codec: str
    video_seconds: float
    audio_seconds: float

    @property
    def note(self) -> str:
        how = "copied" if self.copied else f"transcoded from {self.source_codec} to"
        return f"Driving video's audio {how} {self.audio_codec}, {self.audio_seconds:.3f} s"[:255]


def has_audio(path: Path | str) -> bool:
    with av.open(str(path), metadata_errors="ignore") as container:
        return bool(container.streams.audio)


def audio_remux(
    *, video: Path | str, audio_source: Path | str, target: Path | str, container: str
) -> Remuxed:
    """Write ``video``'s picture with ``audio_source``'s first audio track to ``target`` (``container`` is
    mp4, mov or webm, the result's own). Raises RemuxFailed; ``target`` is then left absent."""
    if container not in CONTAINER_AUDIO:
        raise RemuxFailed(f"no audio can be added to a {container} file")
    target = Path(target)
    try:
        with (
            av.open(str(video), metadata_errors="ignore") as picture,
            av.open(str(audio_source), metadata_errors="ignore") as sound,
        ):
            if not picture.streams.video:
                raise RemuxFailed("the result has no video stream")
            if not sound.streams.audio:
                raise RemuxFailed("the driving video has no audio track")
            return _remux(picture, sound, target, container)
    except RemuxFailed:
        target.unlink(missing_ok=True)
        raise
    except (av.FFmpegError, ValueError, OSError) as exc:
        target.unlink(missing_ok=True)
        raise RemuxFailed(f"{type(exc).__name__}: {exc}"[:200]) from exc


def _seconds(value: Any, time_base: Fraction | None) -> float:
    return float(value * time_base) if value is not None and time_base else 0.0


def _video_span(container: Any, stream: Any, frame_seconds: float) -> tuple[float, float]:
    """(start, end) of the video packets in seconds: what the picture really covers. WebM often records
    no duration per frame; a frame then lasts 1/fps."""
    start = _seconds(stream.start_time, stream.time_base)
    end = start
    for packet in container.demux(stream):
        if packet.pts is not None:
            lasts = _seconds(packet.duration, packet.time_base) if packet.duration else frame_seconds
            end = max(end, _seconds(packet.pts, packet.time_base) + lasts)
    container.seek(0)
    return start, end


def _remux(picture: Any, sound: Any, target: Path, container: str) -> Remuxed:
    video_in = picture.streams.video[0]
    audio_in = sound.streams.audio[0]
    rate = video_in.average_rate or video_in.guessed_rate or 16
    frame_seconds = 1 / float(rate)
    video_start, video_end = _video_span(picture, video_in, frame_seconds)
    length = video_end - video_start
    if length <= 0:
        raise RemuxFailed("the result's video has no length")
    # Where the sound sits relative to the driving video's first picture (the result's first frame).
    driving_video = sound.streams.video[0] if sound.streams.video else None
    origin = _seconds(driving_video.start_time, driving_video.time_base) if driving_video else 0.0
    rules = CONTAINER_AUDIO[container]
    source_codec = audio_in.codec_context.name
    copy_plan = (
        _copy_plan(sound, audio_in, origin=origin, length=length, tolerance=frame_seconds)
        if source_codec in rules.copies
        else None
    )
    options = {"movflags": "+faststart"} if container in {"mp4", "mov"} else {}
    with av.open(str(target), mode="w", format=container, options=options) as out:
        video_out = out.add_stream_from_template(video_in)
        if copy_plan is not None:
            audio_out = out.add_stream_from_template(audio_in)
            audio_packets = _copied_packets(sound, audio_in, copy_plan.last_pts)
            audio_seconds, codec = copy_plan.seconds, source_codec
        else:
            audio_out, sample_rate = _encoder(out, rules, audio_in)
            total = round(length * sample_rate)
            audio_packets = _encoded_packets(sound, audio_in, audio_out, origin=origin, total=total)
            audio_seconds, codec = total / sample_rate, audio_out.codec_context.codec.canonical_name
        video_packets = ((_decode_time(p), 0, p) for p in _packets_of(picture, video_in))
        timed_audio = ((_decode_time(p), 1, p) for p in audio_packets)
        # Merged by decoding time so the muxer interleaves as it goes instead of holding a whole track.
        for _moment, kind, packet in heapq.merge(video_packets, timed_audio, key=lambda item: item[:2]):
            packet.stream = audio_out if kind else video_out
            out.mux(packet)
    return Remuxed(
        audio_codec=codec,
        copied=copy_plan is not None,
        source_codec=source_codec,
        video_seconds=round(length, 6),
        audio_seconds=round(audio_seconds, 6),
    )


def _decode_time(packet: Any) -> float:
    moment = packet.dts if packet.dts is not None else packet.pts
    return _seconds(moment, packet.time_base)


def _packets_of(container: Any, stream: Any) -> Iterator[Any]:
    for packet in container.demux(stream):
        if packet.dts is not None:  # the demuxer's flush packet carries nothing
            yield packet


@dataclass(frozen=True)
class _CopyPlan:
    last_pts: int
    seconds: float


def _copy_plan(
    container: Any, stream: Any, *, origin: float, length: float, tolerance: float
) -> _CopyPlan | None:
    """The packets of a track that can be stored unchanged: those that start before the picture ends
    (by their midpoint, so the cut falls on the nearest packet boundary). None when the track starts late
    or ends early (it needs silence) or the cut would miss the picture's end by more than a frame."""
    start = _seconds(stream.start_time, stream.time_base) - origin
    if abs(start) > tolerance:
        return None
    last_pts = None
    end = start
    for packet in container.demux(stream):
        if packet.pts is None or packet.dts is None:
            continue
        begins = _seconds(packet.pts, packet.time_base) - origin
        lasts = _seconds(packet.duration or 0, packet.time_base)
        if begins + lasts / 2 > length and begins >= 0:
            continue
        last_pts = packet.pts if last_pts is None else max(last_pts, packet.pts)
        end = max(end, begins + lasts)
    container.seek(0)
    if last_pts is None or abs(end - length) > tolerance:
        return None
    return _CopyPlan(last_pts=last_pts, seconds=end - start)


def _copied_packets(container: Any, stream: Any, last_pts: int) -> Iterator[Any]:
    for packet in container.demux(stream):
        if packet.dts is None or packet.pts is None or packet.pts > last_pts:
            continue
        yield packet


def _encoder(out: Any, rules: ContainerAudio, source: Any) -> tuple[Any, int]:
    source_rate = source.codec_context.sample_rate or 48000
    allowed = rules.rates or AAC_RATES
    sample_rate = source_rate if source_rate in allowed else max(allowed, key=lambda r: (r <= 48000, r))
    stream = out.add_stream(rules.encoder, rate=sample_rate)
    context = stream.codec_context
    context.layout = "stereo" if source.codec_context.channels >= 2 else "mono"
    context.format = rules.sample_format
    context.bit_rate = AUDIO_BITRATE
    stream.time_base = Fraction(1, sample_rate)
    return stream, sample_rate


def _silence(*, sample_format: str, layout: str, rate: int, samples: int) -> Any:
    frame = av.AudioFrame(format=sample_format, layout=layout, samples=samples)
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    frame.sample_rate = rate
    return frame


def _encoded_packets(
    container: Any, stream: Any, encoder_stream: Any, *, origin: float, total: int
) -> Iterator[Any]:
    """The track decoded, shifted to the picture's first frame, cut or padded with silence to exactly
    ``total`` samples, and encoded."""
    context = encoder_stream.codec_context
    rate = context.sample_rate
    sample_format, layout = context.format.name, context.layout.name
    resampler = av.AudioResampler(format=sample_format, layout=layout, rate=rate)
    fifo = av.AudioFifo()
    written = 0
    # Samples to drop (the sound starts before the picture, < 0) or silence to put first (> 0).
    lead: int | None = None

    def encode(frame: Any) -> Iterator[Any]:
        nonlocal written
        frame.pts = written
        frame.time_base = Fraction(1, rate)
        written += frame.samples
        yield from encoder_stream.encode(frame)

    def silence_until(samples: int) -> Iterator[Any]:
        while written < samples:
            count = min(CHUNK_SAMPLES, samples - written)
            yield from encode(_silence(sample_format=sample_format, layout=layout, rate=rate, samples=count))

    def drain(final: bool) -> Iterator[Any]:
        while written < total and fifo.samples and (final or fifo.samples >= CHUNK_SAMPLES):
            yield from encode(fifo.read(min(CHUNK_SAMPLES, total - written, fifo.samples)))

    def take(frame: Any) -> None:
        nonlocal lead
        frame.pts = None  # the fifo checks that timestamps follow on; these frames do by construction
        fifo.write(frame)
        if lead is not None and lead < 0 and fifo.samples:
            dropped = fifo.read(min(-lead, fifo.samples))
            lead += dropped.samples

    for packet in container.demux(stream):
        if written >= total:
            break
        for decoded in packet.decode():
            if lead is None:
                lead = round((_seconds(decoded.pts, decoded.time_base) - origin) * rate)
                yield from silence_until(min(max(lead, 0), total))
            for resampled in resampler.resample(decoded):
                take(resampled)
            yield from drain(final=False)
    for resampled in resampler.resample(None):
        take(resampled)
    yield from drain(final=True)
    yield from silence_until(total)
    yield from encoder_stream.encode(None)


# --- outputs -------------------------------------------------------------------------------------


def _local_copy(field_file: Any, suffix: str) -> Path:
    with (
        field_file.open("rb") as source,
        tempfile.NamedTemporaryFile(prefix="animate-remux-", suffix=suffix, delete=False) as copy,
    ):
        for chunk in iter(lambda: source.read(1024 * 1024), b""):
            copy.write(chunk)
    return Path(copy.name)


def _digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def output_audio_attach(*, output: Output) -> Output:
    """Give a freshly stored result its generation's driving audio when the run asked for it.

    Never raises: when the sound cannot be added the Output keeps Runware's file and says why
    (``audio = failed``, ``audio_note``). Runs outside any transaction (decoding and encoding take
    seconds); the row is updated in one short write at the end.
    """
    generation = output.generation
    video = generation.video
    if not generation.keep_audio or not video.has_audio or output.audio != Output.Audio.PROVIDER:
        return output
    suffix = Path(output.file.name).suffix
    work: list[Path] = []
    stored: str | None = None
    try:
        result_path = _local_copy(output.file, suffix)
        work.append(result_path)
        driving_path = _local_copy(video.file, Path(video.file.name).suffix)
        work.append(driving_path)
        target = Path(tempfile.mkdtemp(prefix="animate-remux-")) / f"result{suffix}"
        work.append(target)
        done = audio_remux(
            video=result_path, audio_source=driving_path, target=target, container=output.container
        )
        sha256, size = _digest(target)
        name = f"{os.path.splitext(output.file.name)[0]}-audio{suffix}"
        with target.open("rb") as handle:
            stored = output.file.storage.save(name, File(handle, name=target.name))
        with transaction.atomic():
            updated = Output.objects.filter(pk=output.pk, audio=Output.Audio.PROVIDER).update(
                original_file=output.file.name,
                original_sha256=output.sha256,
                original_size=output.size,
                file=stored,
                sha256=sha256,
                size=size,
                audio=Output.Audio.KEPT,
                audio_note=done.note,
            )
        if not updated:  # another run attached the sound first; its file is the one kept
            output.file.storage.delete(stored)
        stored = None
    except Exception as exc:
        # A result without its sound is still the result: keep Runware's file and say why.
        reason = exc.args[0] if isinstance(exc, RemuxFailed) and exc.args else f"{type(exc).__name__}: {exc}"
        logger.warning("Could not add the driving audio to output %s: %s", output.pk, reason)
        if stored is not None:
            output.file.storage.delete(stored)
        Output.objects.filter(pk=output.pk, audio=Output.Audio.PROVIDER).update(
            audio=Output.Audio.FAILED, audio_note=f"Audio could not be added: {reason}"[:255]
        )
    finally:
        for path in work:
            path.unlink(missing_ok=True)
        if len(work) == 3:
            with contextlib.suppress(OSError):
                work[2].parent.rmdir()
    output.refresh_from_db()
    return output
