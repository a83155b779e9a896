"""Predicting on your own pictures (`minidl predict`, minidl.saved_run, minidl.data.images) and runs that are
kept (`minidl train` never overwrites an earlier run)."""

import json
import re

import numpy as np
import pytest

from minidl import cli
from minidl.data.images import image_to_input, read_grey
from minidl.errors import ArgumentError
from minidl.saved_run import load_run


def save_png(path, grey):
    """Write a grey-level array in [0, 1] as an 8-bit PNG (Pillow)."""
    from PIL import Image

    Image.fromarray(np.round(np.clip(grey, 0, 1) * 255).astype(np.uint8)).save(path)


def draw_digit(path, digit):
    """A digit rendered by matplotlib's text: black ink on white paper, as a phone photo of a drawing."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(1, 1), dpi=64)
    fig.text(0.5, 0.5, str(digit), fontsize=48, ha="center", va="center")
    fig.savefig(path)
    plt.close(fig)


# -- the picture -> input steps, against closed forms --------------------------------------------------------------
def test_a_dark_on_light_picture_of_a_digit_becomes_the_digit_it_was_made_from(tmp_path):
    # An 8x8 pattern whose ink touches all four sides, blown up 10x (each pixel a 10x10 block), inverted to
    # dark ink on white paper and framed by 20 white pixels: cropping, inverting and area-averaging back to
    # 8x8 must give the pattern again (up to two roundings to 8-bit levels: the PNG, then the resize).
    rng = np.random.default_rng(0)
    pattern = rng.uniform(0.3, 1.0, (8, 8)) * (rng.random((8, 8)) < 0.7)
    pattern[0, 3] = pattern[7, 4] = pattern[4, 0] = pattern[3, 7] = 1.0
    photo = np.pad(1 - np.kron(pattern, np.ones((10, 10))), 20, constant_values=1.0)
    save_png(tmp_path / "digit.png", photo)
    x = image_to_input(tmp_path / "digit.png", (1, 8, 8), background="dark", fill=1.0)
    assert x.shape == (1, 8, 8) and x.dtype == np.float32
    np.testing.assert_allclose(x[0], pattern, atol=2 / 255 + 1e-6)


def test_light_on_dark_pictures_are_not_inverted_and_fill_is_the_centred_fraction(tmp_path):
    square = np.zeros((50, 50))
    square[10:40, 10:40] = 1.0  # a light 30x30 square on black
    save_png(tmp_path / "square.png", square)
    x = image_to_input(tmp_path / "square.png", (1, 28, 28), background="dark", fill=20 / 28)[0]
    assert x[4:24, 4:24].min() > 0.99 and x[:4].max() == 0 and x[24:].max() == 0  # 20x20 of ink, centred
    assert x[:, :4].max() == 0 and x[:, 24:].max() == 0


def test_transparent_and_colour_pictures_are_painted_on_white_and_greyed(tmp_path):
    from PIL import Image

    rgba = np.zeros((20, 20, 4), dtype=np.uint8)
    rgba[5:15, 5:15] = (255, 0, 0, 255)  # an opaque red square, the rest transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "red.png")
    grey = read_grey(tmp_path / "red.png")
    assert grey[0, 0] == 1.0  # transparent -> white paper
    assert grey[10, 10] == pytest.approx(0.299, abs=0.01)  # ITU-R 601 luma of pure red: 0.299


def test_bad_pictures_get_one_clear_error(tmp_path):
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(ArgumentError, match="not a picture"):
        read_grey(tmp_path / "notes.png")
    with pytest.raises(ArgumentError, match="no such file"):
        read_grey(tmp_path / "missing.png")


# -- minidl train keeps runs and saves what predict needs; minidl predict ------------------------------------------
@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A full `minidl train` on the bundled digits (a few seconds): the run folder."""
    out = tmp_path_factory.mktemp("runs") / "digits"
    assert cli.main(["train", "--out", str(out), "--epochs", "25"]) == 0
    return out


def test_the_saved_run_rebuilds_the_model_that_was_tested(digits_run):
    from minidl.zoo import prepare_data

    info = json.loads((digits_run / "model.json").read_text())
    assert info["input_shape"] == [1, 8, 8] and info["class_names"] == [str(d) for d in range(10)]
    assert info["input"] == {"kind": "image", "range": [0.0, 1.0], "background": "dark", "fill": 1.0}
    run = load_run(digits_run)
    data = prepare_data("digits", seed=0)
    accuracy = float((run.probabilities(data.X_test).argmax(axis=1) == data.y_test).mean())
    reported = float(re.search(r"\| accuracy \| ([0-9.]+) \|", (digits_run / "report.md").read_text()).group(1))
    assert accuracy == pytest.approx(reported, abs=1e-4)  # the weights on disk are the ones the report tested


def test_predict_reads_digits_drawn_by_matplotlib(digits_run, tmp_path, capsys):
    paths = []
    for digit in range(10):
        draw_digit(tmp_path / f"drawn_{digit}.png", digit)
        paths.append(str(tmp_path / f"drawn_{digit}.png"))
    best = load_run(digits_run).predict_images(paths, top=3)
    top1 = sum(classes[0][0] == str(d) for d, classes in enumerate(best))
    assert top1 >= 8, best  # a font's digits are not handwriting: most, not all, are read right
    assert all(str(d) in [name for name, _ in classes] for d, classes in enumerate(best)), best
    for classes in best:
        probs = [p for _, p in classes]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-9

    assert cli.main(["predict", str(digits_run), *paths[:3], "--top", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and all(len(line.split()) == 5 for line in lines)  # path, 2 x (class, probability)


def test_predict_errors_are_one_line_with_exit_status_2(digits_run, tmp_path, capsys):
    assert cli.main(["predict", str(tmp_path), "x.png"]) == 2
    assert "not a run folder" in capsys.readouterr().err
    assert cli.main(["predict", str(digits_run), str(tmp_path / "missing.png")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_predict_refuses_pictures_for_a_run_on_tabular_data(tmp_path, capsys):
    out = tmp_path / "cancer"
    assert cli.main(["train", "--dataset", "breast-cancer", "--quick", "--out", str(out)]) == 0
    draw_digit(tmp_path / "d.png", 3)
    assert cli.main(["predict", str(out), str(tmp_path / "d.png")]) == 2
    assert "not on images" in capsys.readouterr().err


def test_train_never_overwrites_an_earlier_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--quick", "--epochs", "1", "--out", str(out)]) == 0
    first = (out / "report.md").read_text()
    assert cli.main(["train", "--quick", "--epochs", "1", "--seed", "1", "--out", str(out)]) == 0
    assert (out / "report.md").read_text() == first  # the earlier run is intact
    assert (tmp_path / "run-2" / "report.md").is_file()
    assert "writing into " + str(tmp_path / "run-2") in capsys.readouterr().out
    assert cli.main(["train", "--quick", "--epochs", "1", "--seed", "2", "--out", str(out), "--overwrite"]) == 0
    assert (out / "report.md").read_text() != first and not (tmp_path / "run-3").exists()


def test_train_out_that_is_a_file_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "notes.md").write_text("mine")
    assert cli.main(["train", "--quick", "--out", str(tmp_path / "notes.md")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert (tmp_path / "notes.md").read_text() == "mine"
