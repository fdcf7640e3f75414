"""Tests of course_lib.synthesis.latent: the geometry-aware latent and its no-rotation baseline."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from course_lib.data import shapes3d
from course_lib.synthesis import latent

SIZE = 16


@pytest.fixture(scope="module")
def data():
    return shapes3d.make_multiview_set(
        range(6), num_views=3, resolution=8, image_size=SIZE, use_cache=False
    )


def test_relative_rotation_and_angle_match_scipy():
    a = Rotation.random(5, random_state=0)
    b = Rotation.random(5, random_state=1)
    relative = latent.relative_rotation(a.as_matrix(), b.as_matrix())
    np.testing.assert_allclose(relative, (b * a.inv()).as_matrix(), atol=1e-12)
    np.testing.assert_allclose(
        latent.rotation_angle(relative), np.degrees((b * a.inv()).magnitude()), atol=1e-6
    )
    with pytest.raises(ValueError, match="R_a"):
        latent.relative_rotation(np.eye(2), np.eye(3))


def test_view_pairs_rotate_camera_a_into_camera_b(data):
    pairs = latent.view_pairs(data, 20, seed=3)
    assert pairs["image"].shape == pairs["target"].shape == (20, SIZE, SIZE, 3)
    assert pairs["rotation"].shape == (20, 3, 3)
    direction = np.array([0.3, -0.5, 0.8])
    for n in range(20):
        shape = pairs["shape"][n]
        a = next(v for v in range(3) if np.array_equal(data.images[shape, v], pairs["image"][n]))
        b = next(v for v in range(3) if np.array_equal(data.images[shape, v], pairs["target"][n]))
        assert a != b
        # A world direction seen by camera a, turned by the pair's rotation, is seen by camera b.
        np.testing.assert_allclose(
            pairs["rotation"][n] @ (data.R[shape, a] @ direction),
            data.R[shape, b] @ direction,
            atol=1e-5,
        )
    again = latent.view_pairs(data, 20, seed=3)
    np.testing.assert_array_equal(again["rotation"], pairs["rotation"])
    with pytest.raises(ValueError, match="count"):
        latent.view_pairs(data, 0)


@pytest.mark.parametrize("rotate", [True, False])
def test_model_shapes_and_config(rotate):
    model = latent.LatentViewSynthesis(rotate=rotate, num_points=8, appearance=4, width=4)
    image = np.random.default_rng(0).uniform(size=(2, SIZE, SIZE, 3)).astype(np.float32)
    rotation = Rotation.random(2, random_state=0).as_matrix().astype(np.float32)
    out = model({"image": image, "rotation": rotation})
    assert out.shape == (2, SIZE, SIZE, 3)
    np.testing.assert_allclose(model((image, rotation)), out, atol=1e-6)
    points, appearance = model.encode(image)
    assert points.shape == (2, 8, 3) and appearance.shape == (2, 4)
    clone = latent.LatentViewSynthesis.from_config(model.get_config())
    assert clone.rotate == rotate and clone.num_points == 8


def test_geometry_aware_latent_is_turned_by_the_rotation_only():
    model = latent.LatentViewSynthesis(rotate=True, num_points=8, appearance=4, width=4)
    rng = np.random.default_rng(1)
    image = rng.uniform(size=(3, SIZE, SIZE, 3)).astype(np.float32)
    rotation = Rotation.random(3, random_state=2).as_matrix().astype(np.float32)
    model({"image": image, "rotation": rotation})
    points, appearance = model.encode(image)
    turned = np.einsum("bij,bpj->bpi", rotation, points.numpy())
    identity = np.tile(np.eye(3, dtype=np.float32), (3, 1, 1))
    np.testing.assert_allclose(
        model.decode(points, appearance, rotation),
        model.decode(turned, appearance, identity),
        atol=1e-5,
    )
    # The baseline reads the rotation as numbers: turning its latent is not the same thing.
    baseline = latent.LatentViewSynthesis(rotate=False, num_points=8, appearance=4, width=4)
    baseline({"image": image, "rotation": rotation})
    points, appearance = baseline.encode(image)
    turned = np.einsum("bij,bpj->bpi", rotation, points.numpy())
    difference = baseline.decode(points, appearance, rotation) - baseline.decode(
        turned, appearance, identity
    )
    assert np.abs(difference).max() > 1e-4


def test_training_lowers_the_view_error(data):
    model = latent.LatentViewSynthesis(num_points=8, appearance=4, width=8)
    pairs = latent.view_pairs(data, 64, seed=5)
    model({"image": pairs["image"][:1], "rotation": pairs["rotation"][:1]})
    before = latent.view_errors(model, pairs).mean()
    losses = latent.train_latent(model, data, 60, batch_size=16, learning_rate=3e-3, progress=False)
    assert len(losses) == 60 and np.all(np.isfinite(losses))
    assert latent.view_errors(model, pairs).mean() < 0.5 * before
    synthesized = latent.synthesize(model, pairs["image"], pairs["rotation"], batch_size=10)
    assert synthesized.shape == pairs["target"].shape
    assert synthesized.min() >= 0 and synthesized.max() <= 1


@pytest.mark.parametrize(
    ("inputs", "name"),
    [
        ({"image": np.zeros((1, SIZE, SIZE, 3), np.float32)}, "inputs"),
        ((np.zeros((1, SIZE, SIZE, 3), np.float32),), "inputs"),
        ({"image": np.zeros((1, SIZE, SIZE, 1), np.float32), "rotation": np.eye(3)[None]}, "image"),
        ({"image": np.zeros((1, 12, 12, 3), np.float32), "rotation": np.eye(3)[None]}, "image"),
        (
            {"image": np.zeros((1, SIZE, SIZE, 3), np.float32), "rotation": np.eye(4)[None]},
            "rotation",
        ),
    ],
)
def test_bad_inputs_name_the_argument(inputs, name):
    with pytest.raises(ValueError, match=name):
        latent.LatentViewSynthesis()(inputs)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="num_points"):
        latent.LatentViewSynthesis(num_points=0)
    with pytest.raises((TypeError, ValueError), match="rotate"):
        latent.LatentViewSynthesis(rotate="yes")
