"""The sandbox's renderer on its own: real videos of the requested shape, deterministic, built from the
character image and the driving video's motion."""

import io
from pathlib import Path

import av
import pytest
from PIL import Image, ImageChops, ImageStat

from animate.runware.sandbox import render
from animate.samples import make_character_png, make_driving_video
from tests.runware.sandbox_kit import probe


@pytest.fixture(scope="module")
def character(tmp_path_factory: pytest.TempPathFactory) -> Image.Image:
    path = make_character_png(tmp_path_factory.mktemp("render") / "character.png", width=256, height=384)
    return render.open_image(path.read_bytes())


@pytest.fixture(scope="module")
def driving(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("render") / "driving.mp4"
    return make_driving_video(path, seconds=1.5, fps=10, width=160, height=240).read_bytes()


def request(**fields: object) -> render.RenderRequest:
    values: dict[str, object] = {
        "width": 480,
        "height": 704,
        "fps": 8,
        "seconds": 1.5,
        "output_format": "MP4",
        "quality": 95,
        "seed": 1,
    }
    return render.RenderRequest(**(values | fields))  # type: ignore[arg-type]


def rendered(tmp_path: Path, character: Image.Image, driving: bytes, **fields: object) -> bytes:
    path = tmp_path / f"out-{len(list(tmp_path.iterdir()))}"
    render.render(request(**fields), character=character, driving=driving, path=path)
    return path.read_bytes()


def frames(data: bytes) -> list[Image.Image]:
    with av.open(io.BytesIO(data)) as container:
        return [frame.to_image() for frame in container.decode(video=0)]


@pytest.mark.parametrize(("output_format", "brand"), [("MP4", "isom"), ("WEBM", "webm"), ("MOV", "qt")])
def test_the_video_has_the_requested_size_fps_duration_and_container(
    tmp_path: Path, character: Image.Image, driving: bytes, output_format: str, brand: str
) -> None:
    data = rendered(tmp_path, character, driving, output_format=output_format, fps=12, width=704, height=480)

    video = probe(data)
    assert (video.brand, video.width, video.height) == (brand, 704, 480)
    assert video.fps == pytest.approx(12, abs=1)
    assert abs(video.frames - round(1.5 * 12)) <= 1


def test_the_frame_count_follows_the_driving_duration_whatever_the_output_fps(
    tmp_path: Path, character: Image.Image, driving: bytes
) -> None:
    assert probe(rendered(tmp_path, character, driving, fps=4)).frames == 6
    assert probe(rendered(tmp_path, character, driving, fps=20)).frames == 30


def test_a_lower_output_quality_gives_a_smaller_file(
    tmp_path: Path, character: Image.Image, driving: bytes
) -> None:
    for output_format in ("MP4", "WEBM"):
        high = rendered(tmp_path, character, driving, output_format=output_format, quality=99)
        low = rendered(tmp_path, character, driving, output_format=output_format, quality=20)
        assert len(low) < len(high) * 0.7, output_format


@pytest.mark.parametrize("output_format", ["MP4", "WEBM", "MOV"])
def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not(
    tmp_path: Path, character: Image.Image, driving: bytes, output_format: str
) -> None:
    first = rendered(tmp_path, character, driving, output_format=output_format, seed=42)
    again = rendered(tmp_path, character, driving, output_format=output_format, seed=42)
    other = rendered(tmp_path, character, driving, output_format=output_format, seed=43)

    assert first == again
    assert first != other


def test_the_character_moves_with_the_driving_video(
    tmp_path: Path, character: Image.Image, driving: bytes
) -> None:
    moving = frames(rendered(tmp_path, character, driving))
    assert _difference(moving[0], moving[len(moving) // 2]) > 2

    still_path = make_driving_video(tmp_path / "still.mp4", seconds=0.125, fps=8, width=160, height=240)
    still = frames(rendered(tmp_path, character, still_path.read_bytes(), seconds=1.0))
    assert _difference(still[0], still[-1]) < 1


def test_the_output_is_made_of_the_character_image(
    tmp_path: Path, character: Image.Image, driving: bytes
) -> None:
    other_path = make_character_png(tmp_path / "other.png", width=256, height=384, hue=90)
    other = render.open_image(other_path.read_bytes())

    mine = frames(rendered(tmp_path, character, driving))[0]
    theirs = frames(rendered(tmp_path, other, driving))[0]
    # The two characters differ only in the colour of their bodies, in the middle of the picture.
    middle = (mine.width * 0.35, mine.height * 0.4, mine.width * 0.65, mine.height * 0.6)
    assert _difference(mine.crop(middle), theirs.crop(middle)) > 10


def _difference(first: Image.Image, second: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(first, second)).mean) / 3


@pytest.mark.parametrize(
    ("resolution", "source", "size"),
    [
        ("480p", (512, 768), (480, 704)),  # 2:3 is nearest 15:22 among the 360p rows
        ("480p", (1920, 1080), (832, 480)),
        ("580p", (1000, 1000), (704, 704)),
        ("720p", (1000, 1000), (832, 832)),  # two 1:1 rows: the preset takes the larger
        ("720p", (1080, 1920), (704, 1280)),
        ("720p", (600, 1600), (480, 1280)),  # 3:8
    ],
)
def test_a_resolution_preset_picks_the_row_of_its_class_nearest_the_image_aspect(
    resolution: str, source: tuple[int, int], size: tuple[int, int]
) -> None:
    assert render.choose_size(width=None, height=None, resolution=resolution, source=source) == size


@pytest.mark.parametrize(
    ("source", "size"),
    [
        ((512, 768), (480, 704)),
        ((1000, 1000), (832, 832)),
        ((300, 300), (480, 480)),
        ((3000, 3000), (1280, 1280)),
    ],
)
def test_without_size_or_preset_the_table_row_nearest_the_image_is_used(
    source: tuple[int, int], size: tuple[int, int]
) -> None:
    assert render.choose_size(width=None, height=None, resolution=None, source=source) == size


def test_an_explicit_width_and_height_win() -> None:
    assert render.choose_size(width=1280, height=480, resolution=None, source=(100, 900)) == (1280, 480)


def test_bytes_that_are_not_media_are_refused_with_a_reason(tmp_path: Path) -> None:
    with pytest.raises(render.MediaError, match="image"):
        render.open_image(b"not an image at all")
    with pytest.raises(render.MediaError, match="video"):
        render.probe_video(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 200)
    png = make_character_png(tmp_path / "still.png", width=256, height=256).read_bytes()
    with pytest.raises(render.MediaError, match="video"):
        render.probe_video(png)


def test_a_driving_video_reports_its_size_and_duration(driving: bytes) -> None:
    info = render.probe_video(driving)
    assert (info.width, info.height) == (160, 240)
    assert info.seconds == pytest.approx(1.5, abs=0.01)
