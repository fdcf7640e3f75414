"""course_lib.data.shapes3d: procedural shapes, their voxels and their views from random cameras."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from scipy import ndimage

from course_lib.data import shapes3d
from course_lib.data.shapes3d import SHAPE_KINDS

KINDS = range(len(SHAPE_KINDS))  # seed k makes a shape of kind SHAPE_KINDS[k]


@pytest.fixture(scope="module")
def views():
    """One shape of every kind (seeds 0..6), three views at 32 x 32, voxels at 16^3."""
    return shapes3d.make_multiview_set(
        range(7), num_views=3, resolution=16, image_size=32, use_cache=False
    )


def world_points(depth, K, R, t):
    """``[P, 3]`` world points of a depth map's covered pixels, by NumPy: R^T (d K^-1 p - t)."""
    rows, columns = np.nonzero(depth > 0)
    pixels = np.stack([columns + 0.5, rows + 0.5, np.ones(len(rows))], -1)
    camera = depth[rows, columns, None] * (pixels @ np.linalg.inv(K.astype(np.float64)).T)
    return (camera - t) @ R.astype(np.float64)


def test_shapes_are_deterministic_from_the_seed_and_seeds_differ():
    a, b, c = shapes3d.make_shape(3), shapes3d.make_shape(3), shapes3d.make_shape(10)
    for field in ("vertices", "triangles", "planes", "colour"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert a.kind == c.kind == "torus"
    assert np.abs(a.vertices - c.vertices).max() > 0.01
    first = shapes3d.make_multiview_set([5, 2], 2, 8, 16, use_cache=False)
    again = shapes3d.make_multiview_set([5, 2], 2, 8, 16, use_cache=False)
    for field in ("images", "depths", "masks", "K", "R", "t", "voxels", "labels"):
        np.testing.assert_array_equal(getattr(first, field), getattr(again, field))


@pytest.mark.parametrize("kind", SHAPE_KINDS)
def test_every_kind_is_a_closed_outward_union_of_convex_pieces_in_the_unit_cube(kind):
    shape = shapes3d.make_shape(11, kind)
    assert shape.kind == kind and shape.label == SHAPE_KINDS.index(kind)
    assert shape.vertices.dtype == np.float32 and shape.triangles.dtype == np.int32
    low, high = shape.vertices.min(0), shape.vertices.max(0)
    assert np.all(low >= -0.5) and np.all(high <= 0.5)
    np.testing.assert_allclose((low + high) / 2, 0.0, atol=1e-6)  # centred on its bounding box
    assert shapes3d.SIZE_RANGE[0] - 1e-6 <= (high - low).max() <= shapes3d.SIZE_RANGE[1] + 1e-6
    for piece in range(shape.planes.shape[0]):
        faces = shape.triangles[shape.pieces == piece]
        mesh = trimesh.Trimesh(shape.vertices, faces)  # processed: its own vertices only
        assert mesh.is_watertight and mesh.is_winding_consistent and mesh.is_convex
        assert mesh.volume > 0  # outward
        corners = shape.vertices[faces].reshape(-1, 3).astype(np.float64)
        planes = shape.planes[piece]
        assert np.abs(corners @ planes[:, :3].T + planes[:, 3]).min(-1).max() < 1e-6  # on a plane
        assert (corners @ planes[:, :3].T + planes[:, 3]).max() < 1e-6  # inside all of them
    # Stored normals are the outward unit normals of the triangles.
    a, b, c = (shape.vertices[shape.triangles[:, k]].astype(np.float64) for k in range(3))
    cross = np.cross(b - a, c - a)
    np.testing.assert_allclose(
        cross / np.linalg.norm(cross, axis=-1, keepdims=True), shape.normals, atol=1e-4
    )


def test_consecutive_seeds_cycle_through_every_kind(views):
    np.testing.assert_array_equal(views.labels, np.arange(7))
    assert len(SHAPE_KINDS) == 7 and "chair" in SHAPE_KINDS and "table" in SHAPE_KINDS


def test_voxel_centres_follow_the_documented_mapping():
    centres = shapes3d.voxel_centres(4)
    assert centres.shape == (4, 4, 4, 3) and centres.dtype == np.float32
    for i, j, k in [(0, 0, 0), (3, 0, 1), (1, 2, 3), (3, 3, 3)]:
        np.testing.assert_allclose(centres[i, j, k], [-0.5 + (n + 0.5) / 4 for n in (i, j, k)])
    np.testing.assert_allclose(centres[0, 0, 0], [-0.375] * 3)


@pytest.mark.parametrize("seed", KINDS)
def test_voxels_are_the_mesh_solid_by_an_independent_inside_test(seed, views):
    """trimesh's ray test on each convex piece's mesh, united, against the half-space test."""
    shape = shapes3d.make_shape(seed)
    centres = shapes3d.voxel_centres(16).reshape(-1, 3).astype(np.float64)
    expected = np.zeros(len(centres), bool)
    for piece in range(shape.planes.shape[0]):
        mesh = trimesh.Trimesh(shape.vertices, shape.triangles[shape.pieces == piece])
        expected |= mesh.contains(centres)
    voxels = views.voxels[seed]
    assert voxels.dtype == bool and voxels.shape == (16, 16, 16)
    np.testing.assert_array_equal(voxels.reshape(-1), expected)
    assert 0 < voxels.sum() < voxels.size / 2
    np.testing.assert_array_equal(shapes3d.voxelize(shape, 16), voxels)
    # voxelize (bounds on z per column) is the inside test (per point) at the voxel centres.
    for resolution in (2, 5, 32):
        np.testing.assert_array_equal(
            shapes3d.voxelize(shape, resolution),
            shapes3d.inside(shape, shapes3d.voxel_centres(resolution)),
        )
    # The inside test is the sign of plane_value, which is 0 on the surface.
    points = np.random.default_rng(seed).uniform(-0.5, 0.5, (2000, 3))
    np.testing.assert_array_equal(
        shapes3d.inside(shape, points), shapes3d.plane_value(shape, points) <= 0
    )
    surface = shape.vertices[shape.triangles].mean(1)
    np.testing.assert_allclose(shapes3d.plane_value(shape, surface), 0.0, atol=1e-6)


def test_cameras_are_on_the_sphere_looking_at_the_origin_with_z_up():
    K, R, t = shapes3d.random_cameras(4, 6, 64)
    assert K.shape == (6, 3, 3) and R.shape == (6, 3, 3) and t.shape == (6, 3)
    np.testing.assert_allclose(K[0], [[64, 0, 32], [0, 64, 32], [0, 0, 1]])
    np.testing.assert_allclose(
        R @ np.swapaxes(R, 1, 2), np.broadcast_to(np.eye(3), R.shape), atol=1e-6
    )
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-6)
    centre = -np.einsum("vji,vj->vi", R, t)  # -R^T t
    np.testing.assert_allclose(np.linalg.norm(centre, axis=-1), shapes3d.CAMERA_DISTANCE, rtol=1e-6)
    elevation = np.rad2deg(np.arcsin(centre[:, 2] / shapes3d.CAMERA_DISTANCE))
    low, high = shapes3d.ELEVATION_RANGE_DEG
    assert np.all((elevation >= low - 1e-4) & (elevation <= high + 1e-4))
    # The origin is on the optical axis; world up points up in the image (image y is down).
    for point, side in (([0.0, 0.0, 0.0], 0), ([0.0, 0.0, 0.2], -1)):
        pixel = np.einsum("vij,vj->vi", K, np.einsum("vij,j->vi", R, point) + t)
        pixel = pixel[:, :2] / pixel[:, 2:]
        np.testing.assert_allclose(pixel[:, 0], 32.0, atol=1e-4)
        assert np.all(np.sign(np.round(pixel[:, 1] - 32.0, 4)) == side)
    # The first views do not depend on the number of views; seeds differ.
    np.testing.assert_array_equal(shapes3d.random_cameras(4, 2, 64).R, R[:2])
    assert np.abs(shapes3d.random_cameras(5, 2, 64).R - R[:2]).max() > 1e-3


def test_the_whole_unit_cube_is_in_view():
    K, R, t = shapes3d.random_cameras(0, 50, 32)
    corners = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])
    camera = np.einsum("vij,pj->vpi", R, corners) + t[:, None]
    pixel = np.einsum("vij,vpj->vpi", K, camera)
    pixel = pixel[..., :2] / pixel[..., 2:]
    assert np.all(camera[..., 2] > 0) and np.all((pixel > 0) & (pixel < 32))


def test_views_have_the_documented_arrays(views):
    n, v, s = 7, 3, 32
    assert views.images.shape == (n, v, s, s, 3) and views.images.dtype == np.float32
    assert views.depths.shape == (n, v, s, s) and views.depths.dtype == np.float32
    assert views.masks.shape == (n, v, s, s) and views.masks.dtype == bool
    assert (
        views.K.shape == (n, v, 3, 3)
        and views.R.shape == (n, v, 3, 3)
        and views.t.shape == (n, v, 3)
    )
    assert views.voxels.shape == (n, 16, 16, 16) and views.labels.dtype == np.int32
    assert (views.num_views, views.image_size, views.resolution, len(views)) == (v, s, 16, n)
    assert views.images.min() >= 0.0 and views.images.max() <= 1.0
    np.testing.assert_array_equal(views.masks, views.depths > 0)
    assert np.all(views.images[~views.masks] == 0.0)  # black background
    assert np.all(views.masks.sum((2, 3)) > 10)  # every shape is seen in every view


@pytest.mark.parametrize("seed", KINDS)
def test_occupied_voxel_centres_project_inside_the_silhouette_in_every_view(seed, views):
    centres = shapes3d.voxel_centres(16)[views.voxels[seed]].astype(np.float64)
    for v in range(views.num_views):
        K, R, t = views.K[seed, v], views.R[seed, v], views.t[seed, v]
        pixel = (centres @ R.T + t) @ K.T
        column, row = (pixel[:, :2] / pixel[:, 2:]).T
        # The mask samples pixel centres: allow one pixel of margin.
        grown = ndimage.binary_dilation(views.masks[seed, v], np.ones((3, 3), bool))
        assert np.all(grown[row.astype(int), column.astype(int)])


@pytest.mark.parametrize("seed", KINDS)
def test_depth_maps_unproject_onto_the_mesh_surface(seed, views):
    shape = shapes3d.make_shape(seed)
    mesh = trimesh.Trimesh(shape.vertices, shape.triangles, process=False)
    for v in range(views.num_views):
        points = world_points(
            views.depths[seed, v], views.K[seed, v], views.R[seed, v], views.t[seed, v]
        )
        assert len(points) == views.masks[seed, v].sum()
        _, distance, _ = trimesh.proximity.closest_point(mesh, points)
        assert distance.max() < 1e-4
        # ...on the outer surface (not on a hidden face inside another piece).
        np.testing.assert_allclose(shapes3d.plane_value(shape, points), 0.0, atol=1e-4)


def test_one_shape_renders_as_in_a_batch_of_shapes(views):
    """Shapes batched together are padded with zero-area triangles, which change nothing."""
    alone = shapes3d.render(shapes3d.make_shape(6), views.K[6], views.R[6], views.t[6], 32)
    np.testing.assert_allclose(alone.images, views.images[6], atol=1e-6)
    np.testing.assert_allclose(alone.depths, views.depths[6], rtol=1e-6)  # einsum order
    np.testing.assert_array_equal(alone.masks, views.masks[6])


def test_box_shading_is_lambert_with_the_world_light(views):
    """Each pixel of the box: colour * (ambient + max(0, n . -light)), n the face it shows."""
    shape = shapes3d.make_shape(0)
    assert shape.kind == "box"
    light = np.asarray(shapes3d.LIGHT_DIRECTION)
    for v in range(views.num_views):
        mask = views.masks[0, v]
        points = world_points(views.depths[0, v], views.K[0, v], views.R[0, v], views.t[0, v])
        planes = shape.planes[0]
        face = np.argmax(points @ planes[:, :3].T + planes[:, 3], axis=-1)  # the plane it lies on
        cosine = np.maximum(planes[face, :3] @ -light, 0.0)
        expected = shape.colour * (shapes3d.AMBIENT + cosine)[:, None]
        np.testing.assert_allclose(views.images[0, v][mask], np.clip(expected, 0, 1), atol=2e-3)


def test_the_set_is_cached_and_a_second_call_does_not_render(tmp_path, monkeypatch):
    first = shapes3d.make_multiview_set([3, 8], 2, 8, 16, cache_dir=tmp_path)
    path = shapes3d.cache_path([3, 8], 2, 8, 16, tmp_path)
    assert path.is_file() and f"v{shapes3d.VERSION}" in path.name
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left

    def no_render(*args, **kwargs):
        raise AssertionError("rendered again")

    monkeypatch.setattr(shapes3d, "render_shapes", no_render)
    second = shapes3d.make_multiview_set([3, 8], 2, 8, 16, cache_dir=tmp_path)
    for field in first.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(first, field), getattr(second, field))
        assert getattr(first, field).dtype == getattr(second, field).dtype
    # Other parameters, seeds or version: another file.
    names = {
        shapes3d.cache_path([3, 8], 2, 8, 32, tmp_path),
        shapes3d.cache_path([8, 3], 2, 8, 16, tmp_path),
        shapes3d.cache_path([3, 8], 3, 8, 16, tmp_path),
        shapes3d.cache_path([3, 8], 2, 16, 16, tmp_path),
    }
    assert path not in names and len(names) == 4
    monkeypatch.setattr(shapes3d, "VERSION", shapes3d.VERSION + 1)
    assert shapes3d.cache_path([3, 8], 2, 8, 16, tmp_path) != path
    with pytest.raises(AssertionError, match="rendered again"):
        shapes3d.make_multiview_set([3, 8], 2, 8, 16, cache_dir=tmp_path)


def test_an_unreadable_cache_file_is_made_again_and_an_unwritable_folder_is_no_error(
    tmp_path, capsys
):
    path = shapes3d.cache_path([4], 1, 4, 8, tmp_path)
    path.write_bytes(b"not an npz file")
    data = shapes3d.make_multiview_set([4], 1, 4, 8, cache_dir=tmp_path)
    assert data.labels.tolist() == [4]
    with np.load(path) as stored:
        np.testing.assert_array_equal(stored["images"], data.images)
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("")
    again = shapes3d.make_multiview_set([4], 1, 4, 8, cache_dir=blocked)
    np.testing.assert_array_equal(again.images, data.images)
    assert "could not cache" in capsys.readouterr().out


def test_default_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(shapes3d.CACHE_ENV, str(tmp_path))
    assert shapes3d.default_cache_dir() == tmp_path / "shapes3d"
    assert shapes3d.cache_path([1], 1, 4, 8).parent == tmp_path / "shapes3d"
    monkeypatch.delenv(shapes3d.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert shapes3d.default_cache_dir() == tmp_path / "xdg" / "course_lib" / "shapes3d"


def test_profile_settings():
    assert shapes3d.profile_settings("quick") == {"resolution": 16, "image_size": 32}
    assert shapes3d.profile_settings("full") == {"resolution": 32, "image_size": 64}
    with pytest.raises(ValueError, match="profile"):
        shapes3d.profile_settings("huge")


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"resolution": 1}, "resolution"),
        ({"num_views": 0}, "num_views"),
        ({"image_size": 1}, "image_size"),
        ({"seeds": [1, -2]}, "seeds"),
        ({"seeds": []}, "seeds"),
        ({"seeds": [1.5]}, "seeds"),
        ({"seeds": 3}, "seeds"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(kwargs, name, tmp_path):
    arguments = {
        "seeds": [0],
        "num_views": 1,
        "resolution": 4,
        "image_size": 8,
        "cache_dir": tmp_path,
    }
    with pytest.raises(ValueError, match=name):
        shapes3d.make_multiview_set(**{**arguments, **kwargs})
    assert not list(tmp_path.iterdir())


def test_bad_arguments_of_the_parts_raise_value_errors_naming_them():
    shape = shapes3d.make_shape(0)
    K, R, t = shapes3d.random_cameras(0, 2, 16)
    cases = [
        (lambda: shapes3d.make_shape(-1), "seed"),
        (lambda: shapes3d.make_shape(0, "cone"), "kind"),
        (lambda: shapes3d.voxel_centres(0), "resolution"),
        (lambda: shapes3d.voxelize(shape, 0), "resolution"),
        (lambda: shapes3d.random_cameras(0, 0, 16), "num_views"),
        (lambda: shapes3d.random_cameras(-3, 1, 16), "seed"),
        (lambda: shapes3d.intrinsics(1), "image_size"),
        (lambda: shapes3d.inside(shape, np.zeros((4, 2))), "points"),
        (lambda: shapes3d.render(shape, K[:, :2], R, t, 16), "K"),
        (lambda: shapes3d.render(shape, K, R[:1], t, 16), "R"),
        (lambda: shapes3d.render(shape, K, R, t[:, :2], 16), "t"),
        (lambda: shapes3d.render(shape, K, R, t, 0), "image_size"),
        (lambda: shapes3d.render_shapes([], K[None], R[None], t[None], 16), "shapes"),
    ]
    for call, name in cases:
        with pytest.raises(ValueError, match=name):
            call()
