"""The procedural solid/striped domains and the horse2zebra loader (a fake zip, no network)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from course_lib.data import unpaired


def _edge_energy(images: np.ndarray) -> np.ndarray:
    """Per image, the neighbouring pixel pairs that differ by more than the noise can make."""
    across = np.abs(np.diff(images, axis=2)).max(axis=-1) > 0.2
    down = np.abs(np.diff(images, axis=1)).max(axis=-1) > 0.2
    return across.sum(axis=(1, 2)) + down.sum(axis=(1, 2))


def test_fill_domains_have_the_requested_shapes_and_range():
    domains = unpaired.make_fill_domains(num_train=12, num_test=5, image_size=32, seed=3)
    assert domains.train_x.shape == domains.train_y.shape == (12, 32, 32, 3)
    assert domains.test_x.shape == domains.test_y.shape == (5, 32, 32, 3)
    assert domains.names == ("solid", "striped") and domains.source == unpaired.FILL_DOMAINS
    assert domains.image_size == 32
    for images in (domains.train_x, domains.train_y, domains.test_x, domains.test_y):
        assert images.dtype == np.float32 and images.min() >= 0.0 and images.max() <= 1.0


def test_fill_domains_repeat_from_a_seed_and_differ_between_seeds_and_splits():
    first = unpaired.make_fill_domains(8, 4, 32, seed=1)
    again = unpaired.make_fill_domains(8, 4, 32, seed=1)
    other = unpaired.make_fill_domains(8, 4, 32, seed=2)
    np.testing.assert_array_equal(first.train_y, again.train_y)
    np.testing.assert_array_equal(first.test_x, again.test_x)
    assert not np.allclose(first.train_x, other.train_x)
    assert not np.allclose(first.train_x[:4], first.test_x)


def test_striped_shapes_have_more_edges_than_solid_ones():
    domains = unpaired.make_fill_domains(200, 1, 48, seed=0)
    solid, striped = _edge_energy(domains.train_x), _edge_energy(domains.train_y)
    assert np.median(striped) > 1.5 * np.median(solid)


def test_fill_domains_bad_arguments_name_them():
    with pytest.raises(ValueError, match="num_train"):
        unpaired.make_fill_domains(num_train=0)
    with pytest.raises(ValueError, match="image_size"):
        unpaired.make_fill_domains(image_size=8)
    with pytest.raises(ValueError, match="seed"):
        unpaired.make_fill_domains(seed=-1)


def _fake_zip(path, counts=(3, 2, 1, 2), size=20):
    """A horse2zebra-shaped archive of tiny JPEGs, ``counts`` per folder."""
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(path, "w") as archive:
        for folder, count in zip(unpaired.HORSE2ZEBRA_FOLDERS, counts, strict=True):
            for index in range(count):
                pixels = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
                buffer = io.BytesIO()
                Image.fromarray(pixels).save(buffer, format="JPEG")
                archive.writestr(f"horse2zebra/{folder}/{index}.jpg", buffer.getvalue())
        archive.writestr("horse2zebra/README.txt", "not an image")
    return path


def test_horse2zebra_zip_is_read_and_resized(tmp_path):
    domains = unpaired.read_horse2zebra_zip(_fake_zip(tmp_path / "h2z.zip"), image_size=16)
    assert [len(d) for d in (domains.train_x, domains.train_y, domains.test_x, domains.test_y)] == [
        3,
        2,
        1,
        2,
    ]
    assert domains.train_x.shape[1:] == (16, 16, 3) and domains.names == ("horse", "zebra")
    assert domains.source == unpaired.HORSE2ZEBRA
    assert 0.0 <= domains.train_y.min() and domains.train_y.max() <= 1.0


def test_horse2zebra_zip_without_a_folder_is_an_error(tmp_path):
    path = _fake_zip(tmp_path / "broken.zip", counts=(2, 2, 0, 1))
    with pytest.raises(ValueError, match="testA"):
        unpaired.read_horse2zebra_zip(path, image_size=16)


def test_load_unpaired_offline_uses_the_procedural_domains(monkeypatch, capsys):
    monkeypatch.setattr(unpaired.config, "is_online", lambda: False)
    domains = unpaired.load_unpaired(image_size=32, num_train=4, num_test=2, seed=5)
    assert domains.source == unpaired.FILL_DOMAINS and domains.train_x.shape == (4, 32, 32, 3)
    assert capsys.readouterr().out.count("\n") <= 1  # one announcement at most (printed once)


def test_load_unpaired_falls_back_in_one_line_when_the_download_fails(monkeypatch, capsys):
    def fail():
        raise OSError("no route to host")

    monkeypatch.setattr(unpaired.config, "is_online", lambda: True)
    monkeypatch.setattr(unpaired, "_download_horse2zebra", fail)
    domains = unpaired.load_unpaired(image_size=32, num_train=4, num_test=2, seed=6)
    out = capsys.readouterr().out
    assert domains.source == unpaired.FILL_DOMAINS
    assert out.count("\n") == 1 and "horse2zebra download failed (OSError)" in out


def test_load_unpaired_online_reads_the_downloaded_zip(monkeypatch, tmp_path):
    path = _fake_zip(tmp_path / "h2z.zip")
    monkeypatch.setattr(unpaired.config, "is_online", lambda: True)
    monkeypatch.setattr(unpaired, "_download_horse2zebra", lambda: path)
    domains = unpaired.load_unpaired(image_size=16)
    assert domains.source == unpaired.HORSE2ZEBRA and domains.test_y.shape == (2, 16, 16, 3)
