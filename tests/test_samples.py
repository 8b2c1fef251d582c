import av
import pytest
from PIL import Image

from animate.samples import make_character_png, make_driving_video


@pytest.mark.parametrize(("width", "height"), [(48, 64), (512, 768)])
def test_the_character_is_a_png_of_the_asked_size(tmp_path, width, height):
    path = make_character_png(tmp_path / "c.png", width=width, height=height)
    with Image.open(path) as image:
        assert (image.format, image.size) == ("PNG", (width, height))


@pytest.mark.parametrize(("codec", "suffix"), [("libx264", "mp4"), ("libvpx-vp9", "webm")])
def test_the_driving_video_has_exactly_the_asked_frames_and_rate(tmp_path, codec, suffix):
    path = make_driving_video(
        tmp_path / f"d.{suffix}", seconds=1.5, fps=10, width=96, height=128, codec=codec
    )
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert (frames, stream.average_rate, stream.codec_context.width) == (15, 10, 96)


def test_the_driving_video_can_carry_an_audio_track(tmp_path):
    path = make_driving_video(tmp_path / "a.mp4", seconds=1, fps=8, width=96, height=128, with_audio=True)
    with av.open(str(path)) as container:
        assert [stream.type for stream in container.streams] == ["video", "audio"]


def test_the_figure_moves_from_frame_to_frame(tmp_path):
    path = make_driving_video(tmp_path / "m.mp4", seconds=1, fps=8, width=96, height=128)
    with av.open(str(path)) as container:
        images = [frame.to_image() for frame in container.decode(video=0)]
    assert images[0].tobytes() != images[4].tobytes()
