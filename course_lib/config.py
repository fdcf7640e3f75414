"""Course-wide settings: TensorFlow log hygiene, seeds, the offline check and the run profile."""

from __future__ import annotations

import functools
import os
import random
import socket

import numpy as np

from course_lib import checks

#: Hosts tried by :func:`is_online`; a TCP connection to any one of them counts as online.
PROBE_HOSTS: tuple[tuple[str, int], ...] = (("storage.googleapis.com", 443),)

#: Seconds a single network probe may take before the course treats itself as offline.
PROBE_TIMEOUT_S = 3.0

PROFILES = ("quick", "full")


def quiet_tensorflow() -> None:
    """Keeps TensorFlow's start-up noise out of notebooks and logs.

    Sets ``TF_CPP_MIN_LOG_LEVEL=2`` and ``TF_ENABLE_ONEDNN_OPTS=0`` (both are needed) unless the
    user chose other values. Only effective before TensorFlow is imported; harmless after.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("KMP_WARNINGS", "0")


def seed_everything(seed: int = 0, deterministic_ops: bool = False) -> None:
    """Seeds Python, NumPy and TensorFlow/Keras so that a run repeats exactly.

    Args:
        seed: a non-negative integer.
        deterministic_ops: also ask TensorFlow for deterministic kernels (slower on GPU).

    Raises:
        TypeError: if ``seed`` is not an integer.
        ValueError: if ``seed`` is negative.
    """
    seed = checks.non_negative_int("seed", seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.random.set_seed(seed)
    if deterministic_ops:
        tf.config.experimental.enable_op_determinism()


def offline_forced() -> bool:
    """True when the user asked for offline mode with ``COURSE_OFFLINE=1``."""
    return os.environ.get("COURSE_OFFLINE", "").strip().lower() in ("1", "true", "yes")


@functools.lru_cache(maxsize=1)
def is_online(timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether the dataset and model hosts answer; gives up after ``timeout`` seconds.

    The answer is cached for the process. ``COURSE_OFFLINE=1`` forces ``False`` without trying.
    """
    if offline_forced():
        return False
    for host, port in PROBE_HOSTS:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return True
        except OSError:
            continue
    return False


def profile() -> str:
    """The run profile: ``"quick"`` (CPU-sized, the default) or ``"full"`` (the course's sizes).

    Chosen with the ``COURSE_PROFILE`` environment variable.

    Raises:
        ValueError: if ``COURSE_PROFILE`` names another profile.
    """
    name = os.environ.get("COURSE_PROFILE", "quick").strip().lower() or "quick"
    if name not in PROFILES:
        raise ValueError(f"COURSE_PROFILE must be one of {PROFILES}, got {name!r}")
    return name


def announce(message: str) -> None:
    """Prints a one-line notice (used for offline substitutes), once per message per process."""
    if message not in _announced:
        _announced.add(message)
        print(message, flush=True)


_announced: set[str] = set()
