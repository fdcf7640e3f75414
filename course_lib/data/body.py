"""Procedural human bodies for mesh segmentation: primitives posed on a skeleton, labelled per part.

``make_body(seed)`` gives a :class:`Body`: one closed, outward piece per part of
:data:`BODY_PARTS` (ellipsoids for the head, trunk, hands and feet, cylinders for the limbs; the
pieces are not welded together), with proportions and joint angles drawn from the seed. ``z`` is
up, the body faces ``-y`` and its left side is ``+x``; in the rest pose it stands on ``z = 0``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from course_lib.checks import integer, positive_float
from course_lib.data.meshes import cylinder, load_mesh

#: The body parts, in label order (label ``k`` is ``BODY_PARTS[k]``); left is the body's left.
BODY_PARTS: tuple[str, ...] = (
    "head",
    "chest",
    "abdomen",
    "pelvis",
    "left_upper_arm",
    "left_lower_arm",
    "left_hand",
    "right_upper_arm",
    "right_lower_arm",
    "right_hand",
    "left_upper_leg",
    "left_lower_leg",
    "left_foot",
    "right_upper_leg",
    "right_lower_leg",
    "right_foot",
)

#: Joint name -> its angles' names (radians). Positive flexion bends a joint the natural way
#: (arms and thighs forward, elbows forward, knees backward); abduction moves a limb outward.
JOINTS: dict[str, tuple[str, ...]] = {
    "neck": ("nod", "turn"),
    "left_shoulder": ("flexion", "abduction"),
    "right_shoulder": ("flexion", "abduction"),
    "left_elbow": ("flexion",),
    "right_elbow": ("flexion",),
    "left_hip": ("flexion", "abduction"),
    "right_hip": ("flexion", "abduction"),
    "left_knee": ("flexion",),
    "right_knee": ("flexion",),
}

#: Ranges (radians) the random pose draws each joint angle from, uniformly.
POSE_RANGES: dict[str, tuple[tuple[float, float], ...]] = {
    "neck": ((-0.4, 0.4), (-0.8, 0.8)),
    "left_shoulder": ((-0.6, 1.4), (0.0, 1.4)),
    "right_shoulder": ((-0.6, 1.4), (0.0, 1.4)),
    "left_elbow": ((0.0, 2.0),),
    "right_elbow": ((0.0, 2.0),),
    "left_hip": ((-0.3, 1.2), (0.0, 0.5)),
    "right_hip": ((-0.3, 1.2), (0.0, 0.5)),
    "left_knee": ((0.0, 1.8),),
    "right_knee": ((0.0, 1.8),),
}

#: Proportion factors (1 = the average body) and the range the random ones are drawn from.
PROPORTIONS: dict[str, tuple[float, float]] = {
    "height": (0.9, 1.1),
    "shoulders": (0.85, 1.15),
    "hips": (0.85, 1.15),
    "arms": (0.85, 1.15),
    "legs": (0.85, 1.15),
    "girth": (0.8, 1.2),
}


@dataclass(frozen=True)
class Body:
    """A labelled body mesh.

    Attributes:
        vertices: float32 ``[V, 3]``.
        triangles: int32 ``[T, 3]``, counter-clockwise seen from outside.
        labels: int32 ``[V]``, index into ``part_names``; a triangle's vertices share a label.
        part_names: the names of the labels, :data:`BODY_PARTS`.
    """

    vertices: np.ndarray
    triangles: np.ndarray
    labels: np.ndarray
    part_names: tuple[str, ...]


def _rot_x(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _rot_y(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rot_z(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def _check_proportions(proportions: Mapping[str, float]) -> dict[str, float]:
    unknown = set(proportions) - set(PROPORTIONS)
    if unknown:
        raise ValueError(f"proportions: unknown keys {sorted(unknown)}; use {list(PROPORTIONS)}")
    return {
        key: positive_float(f"proportions[{key!r}]", proportions.get(key, 1.0))
        for key in PROPORTIONS
    }


def _check_pose(pose: Mapping[str, Sequence[float]]) -> dict[str, np.ndarray]:
    unknown = set(pose) - set(JOINTS)
    if unknown:
        raise ValueError(f"pose: unknown joints {sorted(unknown)}; use {list(JOINTS)}")
    checked = {}
    for joint, names in JOINTS.items():
        angles = np.asarray(pose.get(joint, np.zeros(len(names))), np.float64)
        if angles.shape != (len(names),) or not np.all(np.isfinite(angles)):
            raise ValueError(
                f"pose[{joint!r}] must be {len(names)} finite angles {names}, got {angles!r}"
            )
        checked[joint] = angles
    return checked


def make_body(
    seed: int,
    pose: Mapping[str, Sequence[float]] | None = None,
    proportions: Mapping[str, float] | None = None,
) -> Body:
    """A procedural body, deterministic from ``seed``: about 1.3k vertices in 16 pieces.

    Args:
        seed: non-negative int; draws the proportions and the pose (both are always drawn, so
            fixing one leaves the other as the seed gives it).
        pose: None for a random pose from :data:`POSE_RANGES`; otherwise joint name ->
            angles as in :data:`JOINTS`, missing joints at 0 (``{}`` is the rest pose: standing,
            arms hanging).
        proportions: None for random factors from :data:`PROPORTIONS`; otherwise name ->
            positive factor, missing ones 1.

    Raises:
        ValueError: naming ``pose`` or ``proportions`` for unknown keys or bad values.
    """
    rng = np.random.default_rng(integer("seed", seed, minimum=0))
    drawn_proportions = {key: rng.uniform(*span) for key, span in PROPORTIONS.items()}
    drawn_pose = {
        joint: np.array([rng.uniform(*span) for span in spans])
        for joint, spans in POSE_RANGES.items()
    }
    p = _check_proportions(drawn_proportions if proportions is None else proportions)
    angles = _check_pose(drawn_pose if pose is None else pose)

    ellipsoid_fine = load_mesh("icosphere", subdivisions=2)
    ellipsoid_coarse = load_mesh("icosphere", subdivisions=1)
    limb = cylinder(segments=12, stacks=4)
    pieces: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def place(part, mesh, radii, offset, joint, rotation=None):
        # Scales the unit primitive, shifts it in the joint's frame, then rotates and moves it.
        local = mesh[0] * np.asarray(radii) + np.asarray(offset)
        rotation = np.eye(3) if rotation is None else rotation
        pieces[part] = (joint + local @ rotation.T, mesh[1])

    def segment(part, joint, rotation, length, radius):
        # A limb hanging from ``joint`` along the rotated -z axis; returns its far end.
        place(part, limb, (radius, radius, length / 2), (0, 0, -length / 2), joint, rotation)
        return joint + rotation @ np.array([0.0, 0.0, -length])

    girth = p["girth"]
    upper_leg, lower_leg, foot_height = 0.44 * p["legs"], 0.42 * p["legs"], 0.08
    hip_z = foot_height + lower_leg + upper_leg
    hip_x = 0.1 * p["hips"]
    shoulder_x = 0.2 * p["shoulders"]
    origin = np.zeros(3)
    place(
        "pelvis",
        ellipsoid_fine,
        np.array([hip_x + 0.07, 0.11, 0.1]) * girth,
        origin,
        (0, 0, hip_z + 0.04),
    )
    place(
        "abdomen", ellipsoid_fine, np.array([0.14, 0.1, 0.1]) * girth, origin, (0, 0, hip_z + 0.22)
    )
    place(
        "chest",
        ellipsoid_fine,
        np.array([0.18 * p["shoulders"], 0.12 * girth, 0.17]),
        origin,
        (0, 0, hip_z + 0.45),
    )
    nod, turn = angles["neck"]
    neck = np.array([0.0, 0.0, hip_z + 0.64])
    place("head", ellipsoid_fine, (0.09, 0.1, 0.12), (0, 0, 0.13), neck, _rot_z(turn) @ _rot_x(nod))

    for side, sign in (("left", 1.0), ("right", -1.0)):
        # Abduction about y moves the hanging limb toward sign * x; flexion about x toward -y.
        flexion, abduction = angles[f"{side}_shoulder"]
        shoulder = np.array([sign * shoulder_x, 0.0, hip_z + 0.56])
        rotation = _rot_y(-sign * abduction) @ _rot_x(-flexion)
        elbow = segment(f"{side}_upper_arm", shoulder, rotation, 0.3 * p["arms"], 0.045 * girth)
        rotation = rotation @ _rot_x(-angles[f"{side}_elbow"][0])
        wrist = segment(f"{side}_lower_arm", elbow, rotation, 0.27 * p["arms"], 0.038 * girth)
        place(f"{side}_hand", ellipsoid_coarse, (0.03, 0.05, 0.08), (0, 0, -0.08), wrist, rotation)

        flexion, abduction = angles[f"{side}_hip"]
        hip = np.array([sign * hip_x, 0.0, hip_z])
        rotation = _rot_y(-sign * abduction) @ _rot_x(-flexion)
        knee = segment(f"{side}_upper_leg", hip, rotation, upper_leg, 0.07 * girth)
        rotation = rotation @ _rot_x(angles[f"{side}_knee"][0])
        ankle = segment(f"{side}_lower_leg", knee, rotation, lower_leg, 0.05 * girth)
        place(
            f"{side}_foot",
            ellipsoid_coarse,
            (0.045, 0.12, 0.04),
            (0, -0.07, -0.04),
            ankle,
            rotation,
        )

    vertices, triangles, labels, start = [], [], [], 0
    for label, part in enumerate(BODY_PARTS):
        piece_vertices, piece_triangles = pieces[part]
        vertices.append(piece_vertices * p["height"])
        triangles.append(piece_triangles + start)
        labels.append(np.full(len(piece_vertices), label))
        start += len(piece_vertices)
    return Body(
        vertices=np.concatenate(vertices).astype(np.float32),
        triangles=np.concatenate(triangles).astype(np.int32),
        labels=np.concatenate(labels).astype(np.int32),
        part_names=BODY_PARTS,
    )
