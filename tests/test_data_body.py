"""course_lib.data.body: the procedural labelled body, and the cylinder it is built from."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from course_lib.data import meshes
from course_lib.data.body import BODY_PARTS, JOINTS, Body, make_body

REST: dict = {}


def part(body: Body, name: str) -> np.ndarray:
    return body.vertices[body.labels == BODY_PARTS.index(name)]


def test_body_arrays_have_the_documented_shapes_and_types():
    body = make_body(0)
    assert body.vertices.dtype == np.float32 and body.vertices.shape[1] == 3
    assert body.triangles.dtype == np.int32 and body.triangles.shape[1] == 3
    assert body.labels.dtype == np.int32 and body.labels.shape == (len(body.vertices),)
    assert body.part_names == BODY_PARTS and len(BODY_PARTS) == 16
    assert 1000 <= len(body.vertices) <= 3000
    assert body.triangles.min() == 0 and body.triangles.max() == len(body.vertices) - 1
    assert set(np.unique(body.labels)) == set(range(len(BODY_PARTS)))
    # A triangle never joins two parts.
    corner_labels = body.labels[body.triangles]
    assert np.all(corner_labels == corner_labels[:, :1])


def test_body_is_deterministic_from_the_seed_and_seeds_differ():
    a, b, c = make_body(3), make_body(3), make_body(4)
    np.testing.assert_array_equal(a.vertices, b.vertices)
    np.testing.assert_array_equal(a.triangles, b.triangles)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert np.abs(a.vertices - c.vertices).max() > 0.01
    np.testing.assert_array_equal(a.labels, c.labels)  # same topology, different shape


@pytest.mark.parametrize("seed", [0, 7])
def test_every_piece_is_closed_and_outward(seed):
    body = make_body(seed)
    for label, name in enumerate(BODY_PARTS):
        keep = np.flatnonzero(body.labels == label)
        triangles = body.triangles[np.all(body.labels[body.triangles] == label, axis=1)]
        remap = np.full(len(body.vertices), -1)
        remap[keep] = np.arange(len(keep))
        mesh = trimesh.Trimesh(body.vertices[keep], remap[triangles], process=False)
        assert mesh.is_watertight and mesh.is_winding_consistent, name
        assert mesh.volume > 0, name


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rest_pose_labels_agree_with_the_anatomy(seed):
    body = make_body(seed, pose=REST)
    z = {name: part(body, name)[:, 2] for name in BODY_PARTS}
    assert z["head"].min() > z["chest"].mean() > z["abdomen"].mean() > z["pelvis"].mean()
    assert z["head"].min() > z["pelvis"].max()
    for side in ("left", "right"):
        assert z[f"{side}_upper_arm"].mean() > z[f"{side}_lower_arm"].mean()
        assert z[f"{side}_lower_arm"].mean() > z[f"{side}_hand"].mean()
        assert z[f"{side}_upper_leg"].mean() > z[f"{side}_lower_leg"].mean()
        assert z[f"{side}_lower_leg"].mean() > z[f"{side}_foot"].mean()
        assert z[f"{side}_foot"].min() == pytest.approx(0.0, abs=1e-5)
    for name in BODY_PARTS[4:]:
        x = part(body, name)[:, 0]
        assert (x > 0).all() if name.startswith("left") else (x < 0).all(), name
    # The trunk and head straddle the midline.
    for name in BODY_PARTS[:4]:
        assert part(body, name)[:, 0].mean() == pytest.approx(0.0, abs=1e-5)


def test_a_pose_moves_vertices_but_keeps_labels_and_triangles():
    rest = make_body(5, pose=REST)
    posed = make_body(5)
    np.testing.assert_array_equal(rest.labels, posed.labels)
    np.testing.assert_array_equal(rest.triangles, posed.triangles)
    assert np.abs(rest.vertices - posed.vertices).max() > 0.05
    # Pelvis, abdomen and chest have no joint above them: the pose leaves them where they were.
    for name in ("chest", "abdomen", "pelvis"):
        np.testing.assert_allclose(part(rest, name), part(posed, name), atol=1e-6)


def test_joint_angles_move_the_parts_they_should():
    rest = make_body(2, pose=REST)
    # Raising the left arm sideways by 90 degrees puts the left hand level with the shoulder.
    raised = make_body(2, pose={"left_shoulder": [0.0, np.pi / 2]})
    hand = part(raised, "left_hand")
    assert hand[:, 0].mean() > part(rest, "left_hand")[:, 0].mean() + 0.3
    assert hand[:, 2].mean() > part(rest, "left_hand")[:, 2].mean() + 0.3
    np.testing.assert_allclose(part(raised, "right_hand"), part(rest, "right_hand"), atol=1e-6)
    # Bending the right knee moves the right foot backward (+y), not the thigh.
    bent = make_body(2, pose={"right_knee": [np.pi / 2]})
    assert part(bent, "right_foot")[:, 1].mean() > part(rest, "right_foot")[:, 1].mean() + 0.2
    np.testing.assert_allclose(
        part(bent, "right_upper_leg"), part(rest, "right_upper_leg"), atol=1e-6
    )
    # Flexing the hip brings the thigh forward (-y).
    flexed = make_body(2, pose={"left_hip": [1.0, 0.0]})
    assert part(flexed, "left_lower_leg")[:, 1].mean() < part(rest, "left_lower_leg")[:, 1].mean()


def test_proportions_scale_the_body():
    short = make_body(1, pose=REST, proportions={"height": 0.9})
    tall = make_body(1, pose=REST, proportions={"height": 1.1})
    np.testing.assert_allclose(
        tall.vertices[:, 2].max() / short.vertices[:, 2].max(), 1.1 / 0.9, rtol=1e-5
    )
    long_legs = make_body(1, pose=REST, proportions={"legs": 1.15})
    plain = make_body(1, pose=REST, proportions={})
    assert part(long_legs, "pelvis")[:, 2].min() > part(plain, "pelvis")[:, 2].min() + 0.1


def test_bad_arguments_raise_naming_them():
    with pytest.raises(ValueError, match="pose"):
        make_body(0, pose={"tail": [0.0]})
    with pytest.raises(ValueError, match="pose"):
        make_body(0, pose={"left_knee": [0.0, 1.0]})
    with pytest.raises(ValueError, match="proportions"):
        make_body(0, proportions={"wings": 1.0})
    with pytest.raises(ValueError, match="proportions"):
        make_body(0, proportions={"height": -1.0})
    with pytest.raises(ValueError, match="seed"):
        make_body(-1)
    assert set(JOINTS) >= {"neck", "left_shoulder", "left_elbow", "left_hip", "left_knee"}


@pytest.mark.parametrize("segments", [8, 32, 64])
def test_cylinder_volume_matches_pi_r2_h_within_the_tessellation_error(segments):
    vertices, faces = meshes.cylinder(segments=segments, stacks=3)
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    assert mesh.is_watertight and mesh.is_winding_consistent
    assert len(vertices) == segments * 4 + 2
    exact = np.pi * 1.0**2 * 2.0
    # An inscribed n-gon has area n/2 sin(2 pi / n) r^2: the only error is the tessellation's.
    np.testing.assert_allclose(
        mesh.volume, segments / 2 * np.sin(2 * np.pi / segments) * 2.0, rtol=1e-6
    )
    # ... which shrinks as (2 pi / n)^2 / 6 < 7 / n^2.
    assert mesh.volume < exact
    np.testing.assert_allclose(mesh.volume, exact, rtol=7.0 / segments**2)


def test_load_mesh_cylinder_and_argument_checks():
    vertices, faces = meshes.load_mesh("cylinder")
    assert "cylinder" in meshes.MESH_NAMES
    np.testing.assert_allclose(np.linalg.norm(vertices[:, :2], axis=1)[:-2], 1.0, rtol=1e-6)
    assert vertices[:, 2].min() == -1.0 and vertices[:, 2].max() == 1.0
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    np.testing.assert_allclose(mesh.volume, 2 * np.pi, rtol=0.01)
    with pytest.raises(ValueError, match="segments"):
        meshes.cylinder(segments=2)
    with pytest.raises(ValueError, match="stacks"):
        meshes.cylinder(stacks=0)
