"""The driving video's sound put back into results: real clips made with PyAV, real sandbox renders."""

import base64
import math
import uuid
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import av
import pytest
from django.core.files import File

from animate.models import Generation, Output
from animate.runware import spec
from animate.runware.sandbox import render
from animate.samples import make_character_png, make_driving_video
from animate.services import ingest, remux
from animate.services.media import asset_create, probe_video

FORMATS = tuple(render.OUTPUT_FORMATS)  # every format the sandbox renders: MP4, WEBM, MOV
RESULT_FPS = 16


def sine_clip(
    path: Path,
    *,
    seconds: float,
    audio_seconds: float,
    container: str = "mp4",
    audio_codec: str = "aac",
    rate: int = 22050,
    audio_delay: float = 0.0,
    fps: int = 8,
) -> Path:
    """A driving clip: a moving square and a 440 Hz sine of its own length (which may differ)."""
    video_codec = "libvpx-vp9" if container == "webm" else "libx264"
    with av.open(str(path), "w", format=container) as out:
        video = out.add_stream(video_codec, rate=fps)
        video.width, video.height, video.pix_fmt = 96, 128, "yuv420p"
        video.time_base = Fraction(1, fps)
        if video_codec == "libvpx-vp9":
            video.options = {"deadline": "realtime", "cpu-used": "8"}
        audio = out.add_stream(audio_codec, rate=rate)
        audio.codec_context.layout = "mono"
        for index in range(round(seconds * fps)):
            frame = av.VideoFrame(96, 128, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([(index * 20) % 255]) * plane.buffer_size)
            frame.pts = index
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        sample_format = audio.codec_context.format.name
        chunk = 960 if audio_codec in {"libopus", "opus"} else 1024
        total = round(audio_seconds * rate)
        start = round(audio_delay * rate)
        for first in range(0, total, chunk):
            count = min(chunk, total - first)
            frame = av.AudioFrame(format="s16", layout="mono", samples=count)
            frame.planes[0].update(
                b"".join(
                    int(8000 * math.sin(2 * math.pi * 440 * (first + i) / rate)).to_bytes(
                        2, "little", signed=True
                    )
                    for i in range(count)
                )
                + bytes(frame.planes[0].buffer_size - 2 * count)
            )
            frame.sample_rate = rate
            frame.pts = start + first
            frame.time_base = Fraction(1, rate)
            if sample_format != "s16":
                frame = av.AudioResampler(format=sample_format, layout="mono", rate=rate).resample(frame)[0]
                frame.pts = start + first
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
    return path


def provider_render(driving: Path, target: Path, output_format: str, *, seconds: float) -> Path:
    """What the sandbox (standing in for Runware) renders for this driving clip: silent."""
    character = render.open_image(
        make_character_png(target.with_suffix(".png"), width=60, height=90).read_bytes()
    )
    request = render.RenderRequest(
        width=96, height=128, fps=RESULT_FPS, seconds=seconds, output_format=output_format, quality=40, seed=3
    )
    render.render(request, character=character, driving=driving.read_bytes(), path=target)
    return target


def video_packets(path: Path | str) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(packet) for packet in container.demux(container.streams.video[0]) if packet.size]


def spans(path: Path | str) -> tuple[float, float]:
    """(video seconds, audio seconds) as a player sees them: from the packets' timestamps."""

    def span(container, stream) -> float:
        packets = [p for p in container.demux(stream) if p.pts is not None]
        start = min(float(p.pts * p.time_base) for p in packets)
        if stream.type == "audio" and stream.start_time is not None:
            start = float(stream.start_time * stream.time_base)  # priming packets sit before 0
        # WebM often records no duration per video frame: one lasts 1/fps.
        default = 1 / float(stream.average_rate) if stream.type == "video" else 0.0
        end = max(float(p.pts * p.time_base) + (float(p.duration * p.time_base) or default) for p in packets)
        container.seek(0)
        return end - start

    with av.open(str(path)) as container:
        return span(container, container.streams.video[0]), span(container, container.streams.audio[0])


def decoded_audio_seconds(path: Path | str) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.codec_context.sample_rate


# --- audio_remux ---------------------------------------------------------------------------------


@pytest.mark.parametrize("output_format", FORMATS)
@pytest.mark.parametrize(
    ("audio_seconds", "audio_delay"),
    [(1.5, 0.0), (2.6, 0.0), (0.6, 0.0), (1.5, 0.3)],
    ids=["same-length", "longer-is-cut", "shorter-is-padded", "late-start-is-padded"],
)
def test_audio_remux_copies_the_picture_and_fits_the_sound_to_it_within_a_frame(
    tmp_path, output_format, audio_seconds, audio_delay
):
    driving = sine_clip(
        tmp_path / "driving.mp4", seconds=1.5, audio_seconds=audio_seconds, audio_delay=audio_delay
    )
    fmt = render.OUTPUT_FORMATS[output_format]
    result = provider_render(driving, tmp_path / f"result.{fmt.extension}", output_format, seconds=1.5)
    target = tmp_path / f"with-audio.{fmt.extension}"

    done = remux.audio_remux(video=result, audio_source=driving, target=target, container=fmt.container)

    assert video_packets(target) == video_packets(result)  # copied, not re-encoded
    video_seconds, audio_seconds_out = spans(target)
    frame = 1 / RESULT_FPS
    assert abs(audio_seconds_out - video_seconds) <= frame
    assert abs(decoded_audio_seconds(target) - video_seconds) <= frame
    assert abs(done.audio_seconds - done.video_seconds) <= frame
    with av.open(str(target)) as container:
        codec = container.streams.audio[0].codec_context.name
    assert codec == ("opus" if fmt.container == "webm" else "aac")
    # AAC fits MP4 and MOV as it is when it already lines up; WebM takes only Opus/Vorbis.
    assert done.copied is (fmt.container != "webm" and audio_seconds in (1.5, 2.6) and not audio_delay)
    assert probe_video(target, field="file").has_audio  # still a video our own probe accepts


def test_audio_remux_copies_opus_into_webm_and_transcodes_it_to_aac_for_mp4(tmp_path):
    driving = sine_clip(
        tmp_path / "driving.webm",
        seconds=1.0,
        audio_seconds=1.0,
        container="webm",
        audio_codec="libopus",
        rate=48000,
    )
    webm = provider_render(driving, tmp_path / "result.webm", "WEBM", seconds=1.0)
    mp4 = provider_render(driving, tmp_path / "result.mp4", "MP4", seconds=1.0)

    into_webm = remux.audio_remux(
        video=webm, audio_source=driving, target=tmp_path / "a.webm", container="webm"
    )
    into_mp4 = remux.audio_remux(video=mp4, audio_source=driving, target=tmp_path / "a.mp4", container="mp4")

    assert (into_webm.copied, into_webm.audio_codec) == (True, "opus")
    assert (into_mp4.copied, into_mp4.audio_codec, into_mp4.source_codec) == (False, "aac", "opus")
    assert "transcoded from opus to aac" in into_mp4.note
    for target in (tmp_path / "a.webm", tmp_path / "a.mp4"):
        video_seconds, audio_seconds = spans(target)
        assert abs(audio_seconds - video_seconds) <= 1 / RESULT_FPS


def test_audio_remux_refuses_a_source_without_sound_and_leaves_no_file(tmp_path):
    silent = make_driving_video(tmp_path / "silent.mp4", seconds=0.5, fps=8, width=96, height=128)
    target = tmp_path / "out.mp4"
    with pytest.raises(remux.RemuxFailed, match="no audio track"):
        remux.audio_remux(video=silent, audio_source=silent, target=target, container="mp4")
    assert not target.exists()


def test_audio_remux_turns_a_damaged_file_into_a_reason(tmp_path):
    driving = sine_clip(tmp_path / "driving.mp4", seconds=0.5, audio_seconds=0.5)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    with pytest.raises(remux.RemuxFailed):
        remux.audio_remux(video=broken, audio_source=driving, target=tmp_path / "out.mp4", container="mp4")
    assert not (tmp_path / "out.mp4").exists()


# --- through ingestion -----------------------------------------------------------------------------


def _asset(team, user, kind, path):
    with open(path, "rb") as handle:
        return asset_create(team=team, user=user, kind=kind, uploaded_file=File(handle, name=path.name))


def _generation(team, member, image_asset, video, *, keep_audio, output_format):
    return Generation.objects.create(
        team=team,
        created_by=member,
        image=image_asset,
        video=video,
        status="submitted",
        keep_audio=keep_audio,
        parameters={"outputFormat": output_format},
        estimated_cost=Decimal("0.0100"),
    )


def _deliver(generation, result_path: Path, *, nsfw=False):
    body = {
        "taskType": "videoInference",
        "taskUUID": str(generation.task_uuid),
        "status": "success",
        "videoUUID": str(uuid.uuid4()),
        "videoBase64Data": base64.b64encode(result_path.read_bytes()).decode(),
        "seed": 3,
        "cost": 0.01,
        "NSFWContent": nsfw,
    }
    summary = ingest.results_apply(generation_id=generation.pk, results=[spec.parse_result(body)])
    assert summary.outputs_created == 1
    return Output.objects.get(generation=generation)


@pytest.mark.parametrize("output_format", FORMATS)
def test_a_result_of_a_clip_with_sound_gets_it_with_the_picture_copied_and_runware_s_file_kept(
    team, member, image_asset, tmp_path, output_format
):
    driving = sine_clip(tmp_path / "driving.mp4", seconds=1.5, audio_seconds=1.7)
    video = _asset(team, member, "video", driving)
    assert video.has_audio
    fmt = render.OUTPUT_FORMATS[output_format]
    result = provider_render(driving, tmp_path / f"provider.{fmt.extension}", output_format, seconds=1.5)
    provider_bytes = result.read_bytes()
    generation = _generation(team, member, image_asset, video, keep_audio=True, output_format=output_format)

    output = _deliver(generation, result)

    assert output.audio == Output.Audio.KEPT and "audio" in output.audio_note
    # Runware's file is kept byte for byte beside the played one, and described as such.
    with output.original_file.open("rb") as handle:
        assert handle.read() == provider_bytes
    assert output.original_size == len(provider_bytes) and output.original_sha256 != output.sha256
    assert output.file.name != output.original_file.name
    played = Path(output.file.path)
    assert video_packets(played) == video_packets(result)
    video_seconds, audio_seconds = spans(played)
    assert abs(audio_seconds - video_seconds) <= 1 / RESULT_FPS
    assert output.size == played.stat().st_size
    generation.refresh_from_db()
    assert generation.status == "done"
    # The ledger row speaks of the charged result, whichever file is played.
    assert generation.cost_entries.get().amount == Decimal("0.0100")


def test_a_result_of_a_clip_without_sound_is_stored_untouched(
    team, member, image_asset, video_asset, tmp_path
):
    assert not video_asset.has_audio
    generation = _generation(team, member, image_asset, video_asset, keep_audio=True, output_format="MP4")
    result = provider_render(Path(video_asset.file.path), tmp_path / "provider.mp4", "MP4", seconds=1.0)

    output = _deliver(generation, result)

    assert output.audio == Output.Audio.PROVIDER and not output.original_file
    assert output.file.open("rb").read() == result.read_bytes()


def test_with_the_option_off_the_result_stays_silent_and_untouched(team, member, image_asset, tmp_path):
    driving = sine_clip(tmp_path / "driving.mp4", seconds=1.0, audio_seconds=1.0)
    video = _asset(team, member, "video", driving)
    generation = _generation(team, member, image_asset, video, keep_audio=False, output_format="MP4")
    result = provider_render(driving, tmp_path / "provider.mp4", "MP4", seconds=1.0)

    output = _deliver(generation, result)

    assert output.audio == Output.Audio.PROVIDER and not output.original_file
    assert output.file.open("rb").read() == result.read_bytes()
    with av.open(output.file.path) as container:
        assert not container.streams.audio


def test_a_remux_that_fails_keeps_runware_s_result_and_says_why(
    team, member, image_asset, tmp_path, monkeypatch
):
    driving = sine_clip(tmp_path / "driving.mp4", seconds=1.0, audio_seconds=1.0)
    video = _asset(team, member, "video", driving)
    generation = _generation(team, member, image_asset, video, keep_audio=True, output_format="MP4")
    result = provider_render(driving, tmp_path / "provider.mp4", "MP4", seconds=1.0)
    # The driving file has gone from storage (e.g. purged by hand): the sound cannot be read.
    Path(video.file.path).unlink()

    output = _deliver(generation, result)

    assert output.audio == Output.Audio.FAILED
    assert output.audio_note.startswith("Audio could not be added:")
    assert not output.original_file
    assert output.file.open("rb").read() == result.read_bytes()
    generation.refresh_from_db()
    assert generation.status == "done"


def test_output_audio_attach_runs_once_per_output(team, member, image_asset, tmp_path):
    driving = sine_clip(tmp_path / "driving.mp4", seconds=1.0, audio_seconds=1.0)
    video = _asset(team, member, "video", driving)
    generation = _generation(team, member, image_asset, video, keep_audio=True, output_format="MP4")
    output = _deliver(generation, provider_render(driving, tmp_path / "provider.mp4", "MP4", seconds=1.0))
    before = (output.file.name, output.original_file.name, output.sha256)

    again = remux.output_audio_attach(output=output)

    assert (again.file.name, again.original_file.name, again.sha256) == before
