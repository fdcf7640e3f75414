"""``data.paired``: the procedural façades offline, the CMP façades archive online (faked here)."""

from __future__ import annotations

import io
import tarfile

import numpy as np
import pytest
import tensorflow as tf

from course_lib import config
from course_lib.data import paired


def test_procedural_facades_are_deterministic_label_maps_and_renderings():
    inputs, targets = paired.make_facades(6, 64, seed=3)
    again_inputs, again_targets = paired.make_facades(6, 64, seed=3)
    other_inputs, _ = paired.make_facades(6, 64, seed=4)
    assert inputs.shape == targets.shape == (6, 64, 64, 3)
    assert inputs.dtype == targets.dtype == np.float32
    np.testing.assert_array_equal(inputs, again_inputs)
    np.testing.assert_array_equal(targets, again_targets)
    assert not np.array_equal(inputs, other_inputs)
    assert 0.0 <= targets.min() and targets.max() <= 1.0
    colours = {tuple(c) for c in paired.LABEL_COLOURS}
    for image in inputs:  # the input is a label map: only the classes' colours
        used = {tuple(c) for c in np.unique(image.reshape(-1, 3), axis=0)}
        assert used <= colours
        for label in (paired.SKY, paired.WALL, paired.WINDOW, paired.DOOR):
            assert tuple(paired.LABEL_COLOURS[label]) in used


def test_the_rendering_follows_the_label_map():
    rng = np.random.default_rng(0)
    labels = paired.facade_layout(rng, 64)
    image = paired.render_facade(labels, rng)
    brightness = image.sum(axis=-1)
    sky = image[labels == paired.SKY].mean(axis=0)
    door = image[labels == paired.DOOR].mean(axis=0)
    assert sky[2] > sky[0] + 0.2  # blue sky
    assert door.sum() < 1.2  # dark wood
    glass = np.percentile(brightness[labels == paired.WINDOW], 25)  # windows: glass and frames
    assert glass < np.percentile(brightness[labels == paired.WALL], 10)  # glass: darker
    # the label map does not tell the wall's colour: two buildings with one layout differ
    first = paired.render_facade(labels, np.random.default_rng(1))
    second = paired.render_facade(labels, np.random.default_rng(2))
    assert np.abs(first - second).mean() > 0.01


def test_a_larger_size_keeps_the_layout():
    inputs, targets = paired.make_facades(2, 128, seed=0)
    assert inputs.shape == (2, 128, 128, 3)
    assert 0.0 <= targets.min() and targets.max() <= 1.0


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="image_size"):
        paired.make_facades(2, 16)
    with pytest.raises(TypeError, match="image_size"):
        paired.load_paired(64.0)
    with pytest.raises(ValueError, match="count"):
        paired.make_facades(0)
    with pytest.raises(ValueError, match="seed"):
        paired.load_paired(64, seed=-1)


def test_offline_the_procedural_set_is_announced_in_one_line(monkeypatch, capsys):
    monkeypatch.setattr(paired, "is_facades_cached", lambda: False)
    monkeypatch.setattr(config, "is_online", lambda: False)
    monkeypatch.setattr(config, "_announced", set())
    data = paired.load_paired(32, seed=0)
    assert data.source == paired.PROCEDURAL
    assert data.train_inputs.shape == (paired.PROCEDURAL_TRAIN, 32, 32, 3)
    assert data.test_targets.shape == (paired.PROCEDURAL_TEST, 32, 32, 3)
    assert not np.array_equal(data.train_inputs[: paired.PROCEDURAL_TEST], data.test_inputs)
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and printed[0].startswith("Offline")


def _jpeg(left: tuple[int, int, int], right: tuple[int, int, int]) -> bytes:
    """A 32x64 JPEG: a photo of colour ``left`` beside a label map of colour ``right``."""
    image = np.zeros((32, 64, 3), np.uint8)
    image[:, :32] = left
    image[:, 32:] = right
    return tf.io.encode_jpeg(image, quality=100).numpy()


def _fake_archive(path, splits=("train", "test")):
    files = {
        f"facades/{split}/{i}.jpg": _jpeg((200, 30, 30), (30, 30, 200))
        for split in splits
        for i in (1, 2)
    }
    files["facades/val/1.jpg"] = _jpeg((0, 0, 0), (0, 0, 0))  # ignored, as in the tutorial
    with tarfile.open(path, "w:gz") as archive:
        for name, raw in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
    return path


def test_online_the_archive_is_read_as_label_map_inputs_and_photo_targets(monkeypatch, tmp_path):
    archive = _fake_archive(tmp_path / "facades.tar.gz")
    monkeypatch.setattr(config, "is_online", lambda: True)
    monkeypatch.setattr(paired, "_download_facades", lambda: archive)
    data = paired.load_paired(32)
    assert data.source == paired.FACADES
    assert data.train_inputs.shape == data.train_targets.shape == (2, 32, 32, 3)
    assert data.test_inputs.shape == (2, 32, 32, 3)
    np.testing.assert_allclose(
        data.train_targets.mean(axis=(0, 1, 2)), [200 / 255, 30 / 255, 30 / 255], atol=0.03
    )
    np.testing.assert_allclose(
        data.train_inputs.mean(axis=(0, 1, 2)), [30 / 255, 30 / 255, 200 / 255], atol=0.03
    )


def test_a_failed_download_falls_back_in_one_line(monkeypatch, capsys):
    def fail():
        raise OSError("no route to host")

    monkeypatch.setattr(paired, "is_facades_cached", lambda: False)
    monkeypatch.setattr(config, "is_online", lambda: True)
    monkeypatch.setattr(config, "_announced", set())
    monkeypatch.setattr(paired, "_download_facades", fail)
    data = paired.load_paired(32)
    assert data.source == paired.PROCEDURAL
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and "download failed (OSError)" in printed[0]


def test_an_archive_without_test_images_is_refused(tmp_path):
    archive = _fake_archive(tmp_path / "facades.tar.gz", splits=("train",))
    with pytest.raises(ValueError, match="facades/test"):
        paired.read_facades_archive(archive, 32)
