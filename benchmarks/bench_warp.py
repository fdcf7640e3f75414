"""How fast is the inverse warp of analysis by synthesis? Warped pixels per second against NumPy.

Run: ``python benchmarks/bench_warp.py [--repeats 15]``. Prints a Markdown table;
``benchmarks/run.py`` calls :func:`run` for the suite's table (issue 16, "analysis by
synthesis").

``course_lib.synthesis.inverse_warp`` of a batch of :data:`BATCH` RGB images (64 x 64 and
128 x 128, float32, a static scene: no flow), each with its own depth map and a small camera
motion, called eagerly (the way chapters call it) and inside the caller's ``tf.function``,
against the same warp in vectorized NumPy (:func:`numpy_warp`: every pixel back-projected,
moved and projected at once, the four neighbouring source pixels gathered by one fancy-indexing
call, blended with the bilinear weights, border clamping and the validity mask), checked to
agree (1e-4) before timing. All three are warmed up and timed alternately in one process. The
throughput is target pixels per second (``BATCH x H x W`` per call).

Like the rest of the suite (``benchmarks/run.py``, the Makefile, the tests) this runs with
oneDNN off (``TF_ENABLE_ONEDNN_OPTS=0``).

This is not a test: it never fails, it reports. No goals: the issue sets none.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from course_lib.perf.benchmark import Comparison, time_alternately

BATCH, CHANNELS = 8, 3
SIDES = (64, 128)  # square images, H = W
FOCAL = 1.2  # focal length in image widths
#: Projections this close to the image's border (pixels) may fall on either side of it in
#: float32; the check ignores their mask there.
BORDER_TOLERANCE = 1e-3


def _rotation(angles: np.ndarray) -> np.ndarray:
    """``Rz Ry Rx`` of three small angles (radians), float64 `[3, 3]`."""
    (cx, cy, cz), (sx, sy, sz) = np.cos(angles), np.sin(angles)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def warp_problem(side: int, seed: int = 0) -> dict[str, np.ndarray]:
    """float32 ``source`` `[B, S, S, 3]`, smooth ``depth`` `[B, S, S]` in about [2, 4], one
    ``K`` `[3, 3]`, and per image ``R`` `[B, 3, 3]`, ``t`` `[B, 3]` (a few degrees, a few
    centimetres: most pixels land inside the source image, some outside)."""
    rng = np.random.default_rng(seed)
    source = rng.random((BATCH, side, side, CHANNELS))
    rows, cols = np.mgrid[0:side, 0:side] / side
    phase = rng.uniform(0, 2 * np.pi, (BATCH, 1, 1))
    depth = 3.0 + 0.8 * np.sin(2 * np.pi * rows + phase) * np.cos(3 * np.pi * cols + phase)
    focal = FOCAL * side
    K = np.array([[focal, 0.0, side / 2], [0.0, focal, side / 2], [0.0, 0.0, 1.0]])
    R = np.stack([_rotation(rng.uniform(-0.05, 0.05, 3)) for _ in range(BATCH)])
    t = rng.uniform(-0.1, 0.1, (BATCH, 3))
    problem = {"source": source, "depth": depth, "K": K, "R": R, "t": t}
    return {name: value.astype(np.float32) for name, value in problem.items()}


def numpy_warp(
    source: np.ndarray, depth: np.ndarray, K: np.ndarray, R: np.ndarray, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The inverse warp of a static scene in vectorized NumPy, written from its definition.

    Every target pixel centre ``(j + 0.5, i + 0.5)`` is back-projected by its depth,
    ``z K^-1 [u, v, 1]``, moved to the source camera (``R x + t``) and projected with ``K``; the
    four source pixels around each projection are gathered in one fancy-indexing call and
    blended with their bilinear weights (one ``einsum``). float32 throughout, as the inputs.

    Args:
        source: `[B, H, W, C]`; depth `[B, H, W]`; K `[3, 3]`; R `[B, 3, 3]`; t `[B, 3]`.

    Returns:
        ``(warped, mask)``: `[B, H, W, C]` bilinear samples between pixel centres, clamped to
        the border pixels (0 where invalid), and `[B, H, W]` 1.0 where the point is in front of
        the source camera and projects inside its image, else 0.0.
    """
    batch, height, width, channels = source.shape
    rows, cols = np.mgrid[0:height, 0:width].astype(source.dtype) + 0.5
    centres = np.stack([cols, rows, np.ones_like(rows)], -1).reshape(-1, 3)  # [N, 3]
    rays = centres @ np.linalg.inv(K).T.astype(source.dtype)
    points = depth.reshape(batch, -1, 1) * rays  # [B, N, 3]
    moved = points @ np.swapaxes(R, -1, -2) + t[:, None, :]
    pixel = moved @ K.T
    z = moved[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        u, v = pixel[..., 0] / pixel[..., 2], pixel[..., 1] / pixel[..., 2]
    valid = (z > 0) & (u >= 0) & (u < width) & (v >= 0) & (v < height)
    col = np.clip(np.nan_to_num(u - 0.5), 0, width - 1)  # continuous pixel indices
    row = np.clip(np.nan_to_num(v - 0.5), 0, height - 1)
    c0, r0 = col.astype(np.intp), row.astype(np.intp)  # floor: both are >= 0
    c1, r1 = np.minimum(c0 + 1, width - 1), np.minimum(r0 + 1, height - 1)
    fc, fr = col - np.floor(col), row - np.floor(row)
    index = np.stack([r0 * width + c0, r0 * width + c1, r1 * width + c0, r1 * width + c1], -1)
    weights = np.stack([(1 - fr) * (1 - fc), (1 - fr) * fc, fr * (1 - fc), fr * fc], -1)
    weights *= valid[..., None]  # [B, N, 4]
    flat = source.reshape(batch, height * width, channels)
    image = np.arange(batch).reshape(batch, 1, 1)
    warped = np.einsum("bnk,bnkc->bnc", weights, flat[image, index])
    return (
        warped.reshape(batch, height, width, channels),
        valid.reshape(batch, height, width).astype(source.dtype),
    )


def _near_border(problem: dict[str, np.ndarray]) -> np.ndarray:
    """`[B, H, W]`: where the projection is within :data:`BORDER_TOLERANCE` of the image's
    border or the camera plane (float64), so that float32 rounding may decide the mask."""
    p64 = {name: value.astype(np.float64) for name, value in problem.items()}
    _, height, width, _ = p64["source"].shape
    rows, cols = np.mgrid[0:height, 0:width] + 0.5
    centres = np.stack([cols, rows, np.ones_like(rows)], -1)
    points = p64["depth"][..., None] * (centres @ np.linalg.inv(p64["K"]).T)
    moved = np.einsum("bij,bhwj->bhwi", p64["R"], points) + p64["t"][:, None, None]
    pixel = moved @ p64["K"].T
    u, v = pixel[..., 0] / pixel[..., 2], pixel[..., 1] / pixel[..., 2]
    gaps = [np.abs(u), np.abs(u - width), np.abs(v), np.abs(v - height), np.abs(moved[..., 2])]
    return np.min(gaps, axis=0) < BORDER_TOLERANCE


def check_agreement(problem: dict[str, np.ndarray], warped, mask) -> float:
    """The largest difference between ``inverse_warp``'s valid samples and :func:`numpy_warp`'s;
    raises ``AssertionError`` if it is 1e-4 or more, or if the masks differ away from the
    border."""
    want, want_mask = numpy_warp(**problem)
    warped, mask = np.asarray(warped), np.asarray(mask)
    differ = (mask != want_mask) & ~_near_border(problem)
    assert not differ.any(), f"the masks differ at {int(differ.sum())} pixels"
    both = (mask > 0) & (want_mask > 0)
    assert 0.5 < both.mean() < 1.0, f"{both.mean():.3f} of the pixels valid: a poor test"
    error = float(np.abs(warped - want)[both].max())
    assert error < 1e-4, f"the NumPy reference disagrees by {error:.2e}"
    return error


def measure_warp(side: int, repeats: int = 15) -> dict[str, Comparison]:
    """``{"eager": ..., "compiled": ...}``: ``inverse_warp`` against :func:`numpy_warp` at one
    image size, after checking that they agree."""
    import tensorflow as tf

    from course_lib.synthesis import inverse_warp

    problem = warp_problem(side)
    tensors = {name: tf.constant(value) for name, value in problem.items()}

    def ours():
        return inverse_warp(**tensors)

    compiled = tf.function(ours)
    for fn in (ours, compiled):
        warped, mask = fn()
        check_agreement(problem, warped.numpy(), mask.numpy())
    fns = {
        "eager": lambda: [a.numpy() for a in ours()],
        "compiled": lambda: [a.numpy() for a in compiled()],
        "reference": lambda: numpy_warp(**problem),
    }
    t = time_alternately(fns, warmup=3, repeats=repeats)
    return {name: Comparison(t[name], t["reference"]) for name in ("eager", "compiled")}


def rows(results: dict[int, dict[str, Comparison]]) -> list[dict]:
    """The suite's rows (see ``benchmarks/run.py``)."""
    reference = "vectorized NumPy warp (fancy-index bilinear gather, clamped, masked)"
    out = []
    for side, comparisons in results.items():
        pixels = BATCH * side * side
        scene = f"batch {BATCH} x {side}x{side}x{CHANNELS}, static scene"
        for key, where in (("eager", "eager call"), ("compiled", "in the caller's tf.function")):
            c = comparisons[key]
            rate = pixels / c.candidate.median_s / 1e6
            numpy_rate = pixels / c.reference.median_s / 1e6
            out.append(
                c.row(
                    f"synthesis.inverse_warp, {where}, {scene} ({rate:.1f} M px/s; "
                    f"NumPy {numpy_rate:.1f} M px/s)",
                    reference,
                )
            )
    return out


def measure(repeats: int = 15) -> list[dict]:
    """Every image size, as rows."""
    return rows({side: measure_warp(side, repeats) for side in SIDES})


def run() -> list[dict]:
    """The measurements at the default sizes, as rows for ``benchmarks/run.py``."""
    return measure()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="timed rounds per image size")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # as benchmarks/run.py, before TF loads
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    from course_lib.perf.benchmark import markdown_table

    columns = ["name", "reference", "ratio", "candidate_ms", "reference_ms"]
    print(markdown_table(measure(args.repeats), columns))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
