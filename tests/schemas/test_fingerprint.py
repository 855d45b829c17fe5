"""The TOF1 template: the reserved outer ring (the extractor's frame defect), the vectorised
block means and Sobel gradients against Pillow's, and the 1:1 scores card activation relies
on."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageFilter

from schemas.fingerprint import _inner_block_means, _sobel, fingerprint_template, match_score
from services.card_production.fingerprint import best_score
from services.card_production.settings import CardProductionSettings
from simulators.capture.render import render

HEADER = 5
PEOPLE = 12


def field(template: bytes) -> np.ndarray:
    return np.frombuffer(template, np.int8, offset=HEADER).reshape(16, 16, 2)


def with_frame_artefact(template: bytes) -> bytes:
    """The template as extracted before the ring was reserved: Pillow's unfiltered frame on a
    white platen reads (+127, +127), i.e. a doubled-angle vector (0, 127) in every ring block."""
    f = field(template).copy()
    ring = np.ones((16, 16), bool)
    ring[1:-1, 1:-1] = False
    f[ring] = (0, 127)
    return template[:HEADER] + f.tobytes()


@pytest.fixture(scope="module")
def people() -> list[tuple[tuple[bytes, bytes], bytes]]:
    """Per person: the chip's two templates (right and left index) and a later live impression
    of the right index, as the demo presents it at activation."""
    out = []
    for n in range(PEOPLE):
        seed = f"schemas-fp-{n}"
        chip = tuple(
            fingerprint_template(render(seed, f"finger.{f}", 1).data)
            for f in ("right_index", "left_index")
        )
        out.append(
            ((chip[0], chip[1]), fingerprint_template(render(seed, "finger.right_index", 3).data))
        )
    return out


def test_the_outer_ring_is_written_empty(people: list[tuple[tuple[bytes, bytes], bytes]]) -> None:
    for (chip, _), _live in people:
        f = field(chip)
        assert not f[0].any() and not f[-1].any() and not f[:, 0].any() and not f[:, -1].any()
        assert np.count_nonzero(f[1:-1, 1:-1]) > 100  # the finger itself is there


def test_templates_written_before_score_as_new_ones(
    people: list[tuple[tuple[bytes, bytes], bytes]],
) -> None:
    (chip, live), ((other, _), _) = (people[0][0][0], people[0][1]), people[1]
    for a, b in ((chip, live), (other, live)):
        assert match_score(with_frame_artefact(a), b) == match_score(a, b)
        assert match_score(with_frame_artefact(a), with_frame_artefact(b)) == match_score(a, b)


def test_activation_tells_the_holder_from_strangers(
    people: list[tuple[tuple[bytes, bytes], bytes]],
) -> None:
    threshold = CardProductionSettings.model_fields["match_threshold"].default
    scores = np.array([[best_score(live, chip) for chip, _ in people] for _, live in people])
    strangers = scores[~np.eye(PEOPLE, dtype=bool)]
    assert scores.diagonal().min() >= threshold
    assert strangers.max() < threshold
    # with the frame counted, strangers started from a shared component: median ~36
    assert np.median(strangers) < 25


@pytest.mark.parametrize("size", [(416, 416), (387, 396), (300, 417), (256, 256)])
def test_block_means_are_pillows_box_resize(size: tuple[int, int]) -> None:
    rng = np.random.default_rng(size[0])
    values = rng.uniform(0, 127 * 127, (size[1], size[0])).astype(np.float32)
    pillow = np.asarray(Image.fromarray(values, "F").resize((16, 16), Image.Resampling.BOX))
    np.testing.assert_allclose(_inner_block_means(values), pillow[1:-1, 1:-1], rtol=1e-5)


def pillow_sobel(image: Image.Image, kernel: tuple[int, ...]) -> np.ndarray:
    """What the extractor used before its integer Sobel: Pillow's filter, offset undone."""
    out = image.filter(ImageFilter.Kernel((3, 3), kernel, scale=8, offset=128))
    return np.asarray(out, np.int16)[1:-1, 1:-1] - 128


@pytest.mark.parametrize("source", ["rendered", "noise", "edges"])
def test_sobel_gradients_are_pillows_kernel_filter(source: str) -> None:
    rng = np.random.default_rng(7)
    if source == "rendered":
        image = Image.open(io.BytesIO(render("sobel", "finger.left_index", 2).data))
        image = image.filter(ImageFilter.GaussianBlur(1))
    elif source == "noise":
        image = Image.fromarray(rng.integers(0, 256, (301, 417), np.uint8), "L")
    else:  # black/white steps: the largest gradients, where Pillow clips at 255
        image = Image.fromarray((rng.integers(0, 2, (64, 80), np.uint8) * 255), "L")
    gx, gy = _sobel(np.asarray(image, np.int16))
    np.testing.assert_array_equal(gx, pillow_sobel(image, (-1, 0, 1, -2, 0, 2, -1, 0, 1)))
    np.testing.assert_array_equal(gy, pillow_sobel(image, (-1, -2, -1, 0, 0, 0, 1, 2, 1)))


def test_block_means_of_the_inner_pixels_equal_those_of_the_whole_image() -> None:
    values = np.random.default_rng(3).integers(-127, 128, (416, 400)).astype(np.int16)
    np.testing.assert_array_equal(
        _inner_block_means(values[1:-1, 1:-1], margin=1), _inner_block_means(values)
    )


def test_an_image_smaller_than_the_blocks_is_refused() -> None:
    buf = io.BytesIO()
    Image.new("L", (12, 40), 255).save(buf, "PNG")
    with pytest.raises(ValueError, match="too small"):
        fingerprint_template(buf.getvalue())
