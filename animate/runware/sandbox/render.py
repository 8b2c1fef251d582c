"""A real, cheap, deterministic stand-in for Wan2.2 Animate's output, made with PyAV and Pillow.

Each frame is the character image (fitted to 80 % of the output) pasted on a background whose colour the
seed picks, shifted by the centroid of the driving frame's brightness deviation (where the moving figure
is), with a ghost of the driving frame blended over it. So the output visibly shows the character moving
the way the driving video moves, and differs per seed.

Speed: the driving video is decoded once, each source frame is scaled to the output size once (by
swscale, while converting to RGB), and the encoders run at their fastest presets. Determinism: one
encoder thread and bit-exact muxing, so the same inputs and seed give the same bytes.
"""

import io
import math
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageOps, ImageStat, UnidentifiedImageError

from animate.runware import spec

DEFAULT_FPS = 16  # the model page's defaults
DEFAULT_QUALITY = 95
# The look of the stand-in picture: the sandbox's own choices (docs/sandbox.md).
SPRITE_SCALE = 0.8  # share of the output the character fills
MOTION_GAIN = 0.5  # how far the character follows the motion centroid, as a share of the output size
GHOST_ALPHA = 0.3  # opacity of the driving frame over the character
SPRITE_TINT = 0.15  # how much of the seed's colour is mixed into the character
CENTROID_GRID = 32  # side of the thumbnail the motion centroid is measured on


@dataclass(frozen=True)
class OutputFormat:
    container: str
    codec: str
    extension: str
    content_type: str


OUTPUT_FORMATS = {
    "MP4": OutputFormat("mp4", "libx264", "mp4", "video/mp4"),
    "WEBM": OutputFormat("webm", "libvpx-vp9", "webm", "video/webm"),
    "MOV": OutputFormat("mov", "libx264", "mov", "video/quicktime"),
}


# What Runware accepts as inputs of this model: PNG/JPEG/WEBP images, MP4/MOV/WEBM videos.
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")
VIDEO_DEMUXERS = {"mov", "mp4", "matroska", "webm"}


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    seconds: float


class MediaError(ValueError):
    """Bytes that are not a decodable image or video."""


# --- inputs -----------------------------------------------------------------------------------------


def open_image(data: bytes) -> Image.Image:
    """The character image as RGBA (its alpha, if any, lets it sit cleanly on the background)."""
    try:
        image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
        if image.width * image.height > Image.MAX_IMAGE_PIXELS:
            raise MediaError(f"The image is too large ({image.width}x{image.height} pixels).")
        image.load()
        return ImageOps.exif_transpose(image).convert("RGBA")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as error:
        raise MediaError("The reference image is not a decodable PNG, JPEG or WEBP image.") from error


def probe_video(data: bytes) -> VideoInfo:
    """Size and duration of a driving video, after checking that its first frame decodes."""
    try:
        with av.open(io.BytesIO(data)) as container:
            if not VIDEO_DEMUXERS & set(container.format.name.split(",")):
                raise MediaError("The reference video is not an MP4, MOV or WEBM file.")
            if not container.streams.video:
                raise MediaError("The reference video has no video stream.")
            stream = container.streams.video[0]
            first = next(container.decode(stream), None)
            if first is None:
                raise MediaError("The reference video has no decodable frame.")
            seconds = _duration(container, stream)
    except av.FFmpegError as error:
        raise MediaError("The reference video is not a decodable MP4, MOV or WEBM video.") from error
    if seconds <= 0:
        raise MediaError("The reference video has no duration.")
    return VideoInfo(width=first.width, height=first.height, seconds=seconds)


def _duration(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    # Neither header knows: count packets, which needs no decoding.
    container.seek(0)
    packets = sum(1 for packet in container.demux(stream) if packet.size)
    rate = stream.average_rate or stream.guessed_rate or DEFAULT_FPS
    return packets / float(rate)


# --- output size ------------------------------------------------------------------------------------

# Which rows of the model's dimension table each `resolution` preset may pick from. The table labels
# its rows 360p / 720p / 1080p while the presets are 480p / 580p / 720p; this follows the page's pricing
# (360p rows are billed as 480p): 480p -> the 360p rows (480 px short side), 580p -> the 720p rows with
# a 704 px short side, 720p -> every 720p row.
PRESET_ROWS = {
    "480p": lambda w, h, label: label.startswith("360p"),
    "580p": lambda w, h, label: label.startswith("720p") and min(w, h) == 704,
    "720p": lambda w, h, label: label.startswith("720p"),
}


def choose_size(
    *, width: int | None, height: int | None, resolution: str | None, source: tuple[int, int]
) -> tuple[int, int]:
    """The output size: explicit width x height; else, among the preset's rows (or the whole table
    without a preset), the row nearest the source's aspect ratio, then the preset's largest or the
    table's nearest in area. The aspect comes first so the character is never squashed."""
    if width and height:
        return width, height
    aspect = math.log(source[0] / source[1])
    rows = [
        (w, h) for w, h, label in spec.DIMENSIONS if not resolution or PRESET_ROWS[resolution](w, h, label)
    ]

    def distance(size: tuple[int, int]) -> tuple[float, float]:
        area = (
            -size[0] * size[1] if resolution else abs(math.log(size[0] * size[1] / (source[0] * source[1])))
        )
        return abs(math.log(size[0] / size[1]) - aspect), area

    return min(rows, key=distance)


# --- rendering --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderRequest:
    width: int
    height: int
    fps: int
    seconds: float
    output_format: str
    quality: int
    seed: int

    @property
    def frames(self) -> int:
        return max(1, round(self.seconds * self.fps))


def render(request: RenderRequest, *, character: Image.Image, driving: bytes, path: Path) -> None:
    """Write the video for ``request`` to ``path`` (atomically: a partial file never appears there)."""
    size = (request.width, request.height)
    rng = random.Random(request.seed)
    background = Image.new("RGB", size, tuple(rng.randrange(40, 216) for _ in range(3)))
    sprite = _sprite(character, size=size, tint=tuple(rng.randrange(256) for _ in range(3)))
    frames = _driving_frames(driving, size=size, fps=request.fps, count=request.frames)
    partial = path.with_name(f".{path.name}.partial")
    output = OUTPUT_FORMATS[request.output_format]
    # Bit-exact muxing leaves out the muxer's version string and random track UIDs (WEBM).
    options = {"fflags": "+bitexact"}
    with av.open(str(partial), mode="w", format=output.container, options=options) as container:
        stream = container.add_stream(output.codec, rate=request.fps, options=_codec_options(output, request))
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, request.fps)
        stream.codec_context.thread_count = 1
        stream.codec_context.flags |= av.codec.context.Flags.bitexact
        for index, drive in enumerate(frames):
            cx, cy = _centroid(drive)
            x = (size[0] - sprite.width) // 2 + round((cx - 0.5) * size[0] * MOTION_GAIN)
            y = (size[1] - sprite.height) // 2 + round((cy - 0.5) * size[1] * MOTION_GAIN)
            canvas = background.copy()
            canvas.paste(sprite, (x, y), sprite)
            frame = av.VideoFrame.from_image(Image.blend(canvas, drive, GHOST_ALPHA))
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    os.replace(partial, path)


def _codec_options(output: OutputFormat, request: RenderRequest) -> dict[str, str]:
    """Fastest settings, with outputQuality (20-99) mapped onto the codec's constant-quality scale."""
    if output.codec == "libx264":
        return {"preset": "ultrafast", "crf": str(round(51 - 0.35 * request.quality))}
    return {
        "crf": str(round(63 - 0.5 * request.quality)),
        "b": "0",  # with crf: constant quality, no target bitrate
        "deadline": "realtime",
        "cpu-used": "8",
        "row-mt": "0",
    }


def _sprite(character: Image.Image, *, size: tuple[int, int], tint: tuple[int, ...]) -> Image.Image:
    """The character fitted to the output, slightly tinted by the seed so every result differs."""
    fitted = ImageOps.contain(character, (round(size[0] * SPRITE_SCALE), round(size[1] * SPRITE_SCALE)))
    sprite = Image.blend(fitted, Image.new("RGBA", fitted.size, (*tint, 255)), SPRITE_TINT)
    sprite.putalpha(fitted.getchannel("A"))
    return sprite


def _driving_frames(data: bytes, *, size: tuple[int, int], fps: int, count: int) -> Iterator[Image.Image]:
    """For each output frame, the driving frame on screen at that time, scaled to the output size.

    The output may have more or fewer frames per second than the driving video: frames are repeated or
    skipped by timestamp, and each source frame is decoded and scaled at most once.
    """
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        decoded = container.decode(stream)
        current = next(decoded)
        upcoming = next(decoded, None)
        start = current.time or 0.0
        image = _scaled(current, size)
        for index in range(count):
            moment = start + index / fps
            advanced = False
            while upcoming is not None and (upcoming.time or 0.0) <= moment + 1e-6:
                current, upcoming, advanced = upcoming, next(decoded, None), True
            if advanced:
                image = _scaled(current, size)
            yield image


def _scaled(frame: av.VideoFrame, size: tuple[int, int]) -> Image.Image:
    # swscale scales while converting to RGB: one pass, no full-size intermediate image.
    return frame.to_image(width=size[0], height=size[1])


def _centroid(image: Image.Image) -> tuple[float, float]:
    """Where the frame departs most from its own mean brightness, as fractions of width and height.

    On footage of a figure against a plain background that is the figure, which is all the motion a
    stand-in needs; measured on a thumbnail through box-filtered row/column profiles, so it is cheap.
    """
    grey = image.convert("L").resize((CENTROID_GRID, CENTROID_GRID), Image.Resampling.BOX)
    mean = ImageStat.Stat(grey).mean[0]
    deviation = grey.point(lambda value: round(abs(value - mean)))
    columns = list(deviation.resize((CENTROID_GRID, 1), Image.Resampling.BOX).get_flattened_data())
    rows = list(deviation.resize((1, CENTROID_GRID), Image.Resampling.BOX).get_flattened_data())
    return _weighted_position(columns), _weighted_position(rows)


def _weighted_position(weights: list[int]) -> float:
    total = sum(weights)
    if not total:
        return 0.5
    return sum(index * weight for index, weight in enumerate(weights)) / total / (len(weights) - 1)
