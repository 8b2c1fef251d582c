"""Sample media made by code: the demo's character image and driving video, and test fixtures.

The driving video shows a simple stick figure waving and stepping sideways, so anything built from its
motion visibly moves; the character is a friendly flat-colour figure on a plain background.
"""

import math
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageDraw


def make_character_png(path: Path, *, width: int = 512, height: int = 768, hue: int = 0) -> Path:
    image = Image.new("RGB", (width, height), (236, 240, 244))
    draw = ImageDraw.Draw(image)
    colour = ((40 + hue) % 256, (120 + hue * 3) % 256, 200)
    cx = width // 2
    head_r = width // 8
    draw.ellipse((cx - head_r, height // 8, cx + head_r, height // 8 + 2 * head_r), fill=(250, 210, 170))
    draw.ellipse(
        (cx - head_r // 2, height // 8 + head_r // 2, cx - head_r // 4, height // 8 + head_r * 3 // 4),
        fill=(30, 30, 30),
    )
    draw.ellipse(
        (cx + head_r // 4, height // 8 + head_r // 2, cx + head_r // 2, height // 8 + head_r * 3 // 4),
        fill=(30, 30, 30),
    )
    body_top = height // 8 + 2 * head_r + 8
    draw.rounded_rectangle((cx - width // 6, body_top, cx + width // 6, height * 2 // 3), 24, fill=colour)
    draw.rectangle(
        (cx - width // 6, height * 2 // 3, cx - width // 24, height - height // 20), fill=(60, 60, 90)
    )
    draw.rectangle(
        (cx + width // 24, height * 2 // 3, cx + width // 6, height - height // 20), fill=(60, 60, 90)
    )
    path = Path(path)
    image.save(path, format="PNG")
    return path


def make_driving_video(
    path: Path,
    *,
    seconds: float = 3.0,
    fps: int = 16,
    width: int = 320,
    height: int = 480,
    codec: str = "libx264",
    with_audio: bool = False,
) -> Path:
    """Write a short clip of a stick figure in motion; ``seconds * fps`` frames exactly."""
    path = Path(path)
    frames = max(1, round(seconds * fps))
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, fps)
        audio = None
        if with_audio:
            audio = container.add_stream("aac", rate=22050)
        for index in range(frames):
            t = index / fps
            image = Image.new("RGB", (width, height), (20, 24, 32))
            draw = ImageDraw.Draw(image)
            cx = width // 2 + int(width * 0.2 * math.sin(t * 2.0))
            top = height // 5
            draw.ellipse((cx - 20, top - 40, cx + 20, top), outline=(255, 255, 255), width=4)
            draw.line((cx, top, cx, top + height // 3), fill=(255, 255, 255), width=5)
            wave = math.sin(t * 6.0) * 0.9
            for side in (-1, 1):
                angle = -0.6 + (wave if side == 1 else -0.3 * wave)
                hand = (cx + side * int(60 * math.cos(angle)), top + 40 - int(60 * math.sin(angle)))
                draw.line((cx, top + 40, *hand), fill=(255, 200, 80), width=5)
                step = math.sin(t * 4.0 + (0 if side == 1 else math.pi)) * 25
                draw.line(
                    (cx, top + height // 3, cx + side * 30 + int(step), top + height // 3 + 90),
                    fill=(120, 200, 255),
                    width=5,
                )
            frame = av.VideoFrame.from_image(image)
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if audio is not None:
            samples = int(seconds * 22050)
            for start in range(0, samples, 1024):
                count = min(1024, samples - start)
                tone = b"".join(
                    int(6000 * math.sin(2 * math.pi * 440 * (start + i) / 22050)).to_bytes(
                        2, "little", signed=True
                    )
                    for i in range(count)
                )
                aframe = av.AudioFrame(format="s16", layout="mono", samples=count)
                aframe.planes[0].update(tone)
                aframe.sample_rate = 22050
                aframe.pts = start
                for packet in audio.encode(aframe):
                    container.mux(packet)
            for packet in audio.encode():
                container.mux(packet)
    return path
