"""The syndigits domain: fonts found, crops deterministic, labels match the pictures."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from sklearn.neighbors import KNeighborsClassifier

from introdl.adaptation.domains import syndigits
from introdl.adaptation.domains.syndigits import (
    FONT_ROOTS,
    SynDigitsConfig,
    font_files,
    render_syndigits,
)
from introdl.errors import DataUnavailable

# one centred, upright digit of a fixed size on a plain background, nothing else random
CLEAN = SynDigitsConfig(height=(0.7, 0.7), rotation=(0.0, 0.0), offset=(0.0, 0.0),
                        distractor_prob=0.0, gradient_prob=0.0, texture_prob=0.0,
                        blur=(0.0, 0.0), noise=(0.0, 0.0))


def ink_maps(images: np.ndarray) -> np.ndarray:
    """Per image, |gray - background gray| scaled to max 1: ink regardless of the colours."""
    gray = images.astype(np.float64).mean(axis=-1)
    border = np.concatenate([gray[:, 0], gray[:, -1], gray[:, :, 0], gray[:, :, -1]], axis=1)
    ink = np.abs(gray - np.median(border, axis=1)[:, None, None])
    return (ink / ink.max(axis=(1, 2), keepdims=True)).reshape(len(images), -1)


def dejavu_templates() -> tuple[np.ndarray, np.ndarray]:
    """0-9 in matplotlib's DejaVu faces, drawn here without the generator: 22 px high, centred."""
    xs, ys = [], []
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    for path in sorted(folder.glob("DejaVuS*.ttf")):
        if "Display" in path.name:  # DejaVu's display faces carry no digits
            continue
        font = ImageFont.truetype(str(path), 96)
        for d in range(10):
            img = Image.new("L", (160, 160))
            ImageDraw.Draw(img).text((20, 10), str(d), font=font, fill=255)
            img = img.crop(img.getbbox())
            w = max(1, round(img.width * 22 / img.height))
            canvas = Image.new("L", (32, 32))
            canvas.paste(img.resize((w, 22), Image.Resampling.BILINEAR), ((32 - w) // 2, 5))
            ink = np.asarray(canvas, np.float64)
            xs.append((ink / ink.max()).ravel())
            ys.append(d)
    return np.array(xs), np.array(ys)


def test_font_files_are_real_digit_faces():
    fonts = font_files()
    assert len(fonts) >= 3
    assert len(fonts) == len(set(fonts))
    # Ordered by root (Debian's folders, then matplotlib's) and the path inside it, never by
    # the absolute path, which would change with where the venv lives (/check/... vs /work/...).
    roots = [*FONT_ROOTS, Path(matplotlib.get_data_path()) / "fonts" / "ttf"]
    keys = [next((i, str(f.relative_to(r))) for i, r in enumerate(roots) if f.is_relative_to(r))
            for f in fonts]
    assert keys == sorted(keys)
    assert all(isinstance(f, Path) and f.is_file() for f in fonts)
    names = " ".join(f.name.lower() for f in fonts)
    assert not any(bad in names for bad in ("symbol", "dingbat", "math", "lastresort"))
    if Path("/usr/share/fonts/truetype/liberation").is_dir():
        assert len(fonts) > 20
    stems = [f.stem for f in fonts]
    assert len(stems) == len(set(stems))  # no face twice (e.g. URW .otf and .t1 copies)


def test_deterministic_shapes_and_labels():
    x, y = render_syndigits(200, seed=0)
    x2, y2 = render_syndigits(200, seed=0)
    x3, y3 = render_syndigits(20, seed=1)
    assert x.shape == (200, 32, 32, 3) and x.dtype == np.uint8
    assert y.shape == (200,) and y.dtype == np.int64
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert not np.array_equal(x[:20], x3) and not np.array_equal(y[:20], y3)
    assert set(y.tolist()) == set(range(10))
    assert x.std() > 20  # not blank: varied colours and ink
    small, _ = render_syndigits(5, seed=0, cfg=SynDigitsConfig(size=24))
    assert small.shape == (5, 24, 24, 3)


def test_labels_match_the_pictures():
    """1-NN on clean crops of the many faces recovers the label; with shuffled labels it cannot."""
    x_train, y_train = render_syndigits(500, seed=1, cfg=CLEAN)
    x_test, y_test = render_syndigits(200, seed=2, cfg=CLEAN)
    a, b = ink_maps(x_train), ink_maps(x_test)
    assert KNeighborsClassifier(1).fit(a, y_train).score(b, y_test) > 0.9
    shuffled = np.random.default_rng(0).permutation(y_train)
    assert KNeighborsClassifier(1).fit(a, shuffled).score(b, y_test) < 0.25


def test_labels_name_the_digit_drawn():
    """Nearest DejaVu template (drawn independently) reads the label; label + 1 it never reads."""
    templates, digits = dejavu_templates()
    x, y = render_syndigits(300, seed=4, cfg=CLEAN)
    knn = KNeighborsClassifier(1).fit(templates, digits)
    assert knn.score(ink_maps(x), y) > 0.8
    assert knn.score(ink_maps(x), (y + 1) % 10) < 0.1


def test_clean_digits_are_centred_and_contrasted():
    x, _ = render_syndigits(100, seed=3, cfg=CLEAN)
    for ink in ink_maps(x).reshape(-1, 32, 32) > 0.5:  # the digit's box is centred
        rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
        assert abs((rows.min() + rows.max()) / 2 - 15.5) <= 1.5
        assert abs((cols.min() + cols.max()) / 2 - 15.5) <= 1.5
        assert 0.6 * 32 <= rows.max() - rows.min() + 1 <= 0.8 * 32  # height 0.7 of the crop
    lum = x.astype(np.float64) @ np.array([0.299, 0.587, 0.114]) / 255.0
    spread = lum.max(axis=(1, 2)) - lum.min(axis=(1, 2))
    assert np.all(spread > 0.15)  # the digit stands out from its background


def test_distractors_never_cover_the_centre_digit():
    cfg = SynDigitsConfig(distractor_prob=1.0)
    upright = SynDigitsConfig(distractor_prob=1.0, rotation=(0.0, 0.0))
    rng = np.random.default_rng(0)
    fonts = font_files()
    seen = 0
    for i in range(60):
        label, font = i % 10, fonts[int(rng.integers(len(fonts)))]
        centre, others = syndigits.digit_layers(label, font, cfg, rng)
        assert centre.sum() > 0
        assert not np.any((centre > 0) & (others > 0))
        seen += others.sum() > 0
        centre, others = syndigits.digit_layers(label, font, upright, rng)
        columns = np.nonzero(centre.any(axis=0))[0]
        assert not others[:, columns.min():columns.max() + 1].any()  # neighbours beside it
    assert seen >= 45  # the neighbours do show (cropped) at the edges


def test_no_fonts_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(syndigits, "font_files", lambda: [])
    with pytest.raises(DataUnavailable, match="scripts/setup"):
        render_syndigits(3, seed=0)


def test_without_debian_fonts_matplotlib_faces_suffice(monkeypatch):
    monkeypatch.setattr(syndigits, "FONT_ROOTS", ())
    fonts = font_files.__wrapped__()  # uncached probe
    assert len(fonts) >= 10 and all("matplotlib" in str(f) for f in fonts)
    assert any(f.name == "DejaVuSans.ttf" for f in fonts)
    monkeypatch.setattr(syndigits, "font_files", lambda: fonts)
    x, y = render_syndigits(20, seed=0)
    assert x.shape == (20, 32, 32, 3) and x.std() > 20


def test_font_order_does_not_depend_on_where_python_lives(monkeypatch, tmp_path):
    """The same fonts with matplotlib installed under a prefix that sorts before or after the
    system font folder come back in the same order (by root, then path inside it), so a seed
    draws the same typefaces from any checkout."""
    mpl = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    system = tmp_path / "m" / "fonts"
    system.mkdir(parents=True)
    for name in ("DejaVuSansMono.ttf", "DejaVuSerif-Bold.ttf"):
        (system / name).symlink_to(mpl / name)
    monkeypatch.setattr(syndigits, "FONT_ROOTS", (system,))
    orders = []
    for prefix in ("a", "z"):  # matplotlib's folder sorts before / after the system one
        data = tmp_path / prefix / "mpl-data"
        (data / "fonts" / "ttf").mkdir(parents=True)
        for name in ("DejaVuSans.ttf", "cmr10.ttf"):
            (data / "fonts" / "ttf" / name).symlink_to(mpl / name)
        monkeypatch.setattr(matplotlib, "get_data_path", lambda d=data: str(d))
        orders.append([f.name for f in font_files.__wrapped__()])
    assert orders[0] == orders[1]
    assert orders[0][:2] == ["DejaVuSansMono.ttf", "DejaVuSerif-Bold.ttf"]
