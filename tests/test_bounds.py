"""Floors and ceilings of the ground-truth metrics on cases whose answers are known."""

import numpy as np
import pytest

from munit_tf.data import synthetic
from munit_tf.evaluation import bounds, ground_truth, report

SIZE = 48


def _domain(name: str, count: int = 6) -> dict:
    examples = [synthetic.example(name, i, seed=3, size=SIZE, split="test") for i in range(count)]
    return {
        "images": np.stack([e["image"] for e in examples]).astype(np.float32) / 255.0,
        "masks": np.stack([e["mask"] for e in examples]).astype(bool),
        "contents": np.array([e["content"] for e in examples], np.float32),
        "styles": np.array([e["style"] for e in examples], np.float32) if name != "a" else None,
    }


@pytest.fixture(scope="module")
def domains():
    return _domain("a"), _domain("b")


def test_fill_paints_the_silhouette_and_keeps_the_background():
    masks = np.zeros((1, 4, 4), bool)
    masks[0, 1:3, 1:3] = True
    filled = bounds.fill(masks, (1.0, 0.0, 0.0))
    assert np.allclose(filled[0, 1, 1], (1, 0, 0))
    assert np.allclose(filled[0, 0, 0], synthetic.BACKGROUND)
    images = np.zeros((1, 4, 4, 3))
    images[0, 1:3, 1:3] = (0.2, 0.4, 0.6)
    assert np.allclose(bounds.mean_colour(images, masks), (0.2, 0.4, 0.6))


def test_true_translations_redraw_the_same_content_in_the_other_domain(domains):
    a, b = domains
    # b2a: the renderer's outline of a B image's content is exactly the A rendering of it
    truth = bounds.true_translations("a", b["contents"], SIZE, styles=2, seed=0)
    content = bounds._content(b["contents"][0])
    assert np.allclose(truth[0, 0], synthetic.render_a(content, SIZE) / 255.0)
    assert np.array_equal(truth[0, 0], truth[0, 1])
    # a2b: K different styles of one content, each filling the A image's own silhouette
    truth = bounds.true_translations("b", a["contents"], SIZE, styles=3, seed=0)
    assert truth.shape == (6, 3, SIZE, SIZE, 3) and not np.array_equal(truth[0, 0], truth[0, 1])
    assert ground_truth.content_iou(truth[:, 0], a["masks"]).min() > 0.9
    again = bounds.true_translations("b", a["contents"], SIZE, styles=3, seed=0)
    assert np.array_equal(truth, again)


def test_direction_bounds_put_trivial_translators_below_the_paired_truth(domains):
    a, b = domains
    a2b = bounds.direction_bounds("b", a, b, styles=3, seeds=(0, 1))
    assert set(a2b) == {"content_iou", "style_distance", "diversity"}
    iou = a2b["content_iou"]
    assert set(iou["floor"]) == {"input", "mean_colour_fill"}
    # an outline covers little of the silhouette; the filled silhouette all of it
    assert iou["floor"]["input"] < 0.5 < iou["floor"]["mean_colour_fill"]
    assert iou["ceiling"]["paired_truth"]["mean"] > 0.9
    assert iou["ceiling"]["paired_truth"]["n"] == 2
    # a translator that ignores the style code has no diversity; the truth has real B's
    assert a2b["diversity"]["floor"] == {"input": 0.0, "mean_colour_fill": 0.0}
    assert a2b["diversity"]["ceiling"]["paired_truth"]["mean"] > 0.05
    b2a = bounds.direction_bounds("a", b, a, styles=2, seeds=(0,))
    f_score = b2a["outline_f_score"]
    assert f_score["ceiling"]["paired_truth"]["mean"] > 0.9 > f_score["floor"]["input"]


def test_into_the_dotted_domain_c_the_truth_keeps_the_outline_and_draws_dots():
    a, b, c = _domain("a"), _domain("b"), _domain("c")
    truth = bounds.true_translations("c", b["contents"], SIZE, styles=3, seed=0)
    assert truth.shape == (6, 3, SIZE, SIZE, 3) and not np.array_equal(truth[0, 0], truth[0, 1])
    # each drawing is the renderer's dotted outline of that content, in some dots' style
    drawn = ground_truth.foreground(truth[0, 0])
    assert drawn.any() and not (drawn & ~ground_truth.outline_band(b["masks"][0], 3)).any()
    b2c = bounds.direction_bounds("c", b, c, styles=3, seeds=(0,))
    assert set(b2c) == {"outline_f_score", "style_distance", "diversity"}
    # a filled silhouette is no outline; dots of any colour along it are
    f_score = b2c["outline_f_score"]
    assert f_score["ceiling"]["paired_truth"]["mean"] > 0.9 > f_score["floor"]["input"]
    # a's black outline has c's shape but not its colours
    a2c = bounds.direction_bounds("c", a, c, styles=3, seeds=(0,))["style_distance"]
    assert a2c["ceiling"]["paired_truth"]["mean"] < a2c["floor"]["input"]
    guided = bounds.guided_bounds(a, c, target="c")
    assert set(guided) == {"reference_color_error"}
    error = guided["reference_color_error"]
    assert error["ceiling"]["paired_truth"] < error["floor"]["mean_colour_fill"]
    assert error["floor"]["reference_colour_fill"] < error["floor"]["mean_colour_fill"]


def test_guided_scores_into_c_measure_the_dots_colour_and_the_outline():
    a, c = _domain("a", 2), _domain("c", 2)
    matrix = np.stack(
        [
            np.stack(
                [
                    bounds.render("c", bounds._content(content), style, SIZE, None) / 255.0
                    for style in c["styles"]
                ]
            )
            for content in a["contents"]
        ]
    )
    scores = ground_truth.guided_scores(matrix, a, c, a["images"], target_domain="c")
    assert set(scores) == {"reference_color_error", "random_style_color_error", "outline_f_score"}
    # the true drawings have the reference's colour (to rounding) and the source's outline;
    # a's black outlines (the "random style" here) have neither colour
    assert max(scores["reference_color_error"]) < 0.05 < min(scores["random_style_color_error"])
    assert min(scores["outline_f_score"]) > 0.9


def test_guided_bounds_truth_follows_the_reference_colour_better_than_a_flat_fill(domains):
    a, b = domains
    guided = bounds.guided_bounds(a, b)["reference_color_error"]
    assert 0 <= guided["ceiling"]["paired_truth"] < guided["floor"]["mean_colour_fill"]


def test_the_reference_colour_fill_floor_takes_each_references_own_colour(domains):
    a, b = domains
    fills = bounds.reference_colour_fills(a, b)
    assert fills.shape == (6, 6, SIZE, SIZE, 3)
    for i, j in ((0, 0), (2, 5), (5, 1)):
        inside = a["masks"][i]
        assert np.allclose(
            fills[i, j][inside], bounds.mean_colour(b["images"][j : j + 1], b["masks"][j : j + 1])
        )
        assert np.allclose(fills[i, j][~inside], synthetic.BACKGROUND)
    guided = bounds.guided_bounds(a, b)["reference_color_error"]
    # the reference's own colour is closer to it than the mean of every reference's colour
    floor = guided["floor"]
    assert floor["reference_colour_fill"] < floor["mean_colour_fill"]


def test_one_seed_shows_no_spread_and_bounds_reach_the_console():
    result = {
        "metrics": {
            "a2b": {"content_iou": {"mean": 0.5, "std": 0.0, "n": 1, "over": "seeds"}},
            "guided_a2b": {"color": {"mean": 0.2, "std": 0.1, "n": 16, "over": "pairs"}},
        },
        "bounds": {
            "a2b": {
                "content_iou": {
                    "floor": {"input": 0.1},
                    "ceiling": {"paired_truth": {"mean": 0.97, "std": 0.0, "n": 1}},
                }
            }
        },
    }
    lines = report.console_lines(result)
    assert (
        lines[0]
        == "a2b/content_iou: 0.5000 (1 seed)  [floor 0.1000 input; ceiling 0.9700 paired_truth]"
    )
    assert lines[1] == "guided_a2b/color: 0.2000 ± 0.1000 (16 pairs)"
    assert "±" not in lines[0]
