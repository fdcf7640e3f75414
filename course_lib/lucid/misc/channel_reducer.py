"""Neuron groups: factorize a layer's activations over its channels with scikit-learn.

A layer's activations ``[..., C]`` on an image are ``N`` vectors of ``C`` channels. A matrix
factorization ``A ≈ W H`` with ``W: [N, k]`` and ``H: [k, C]`` finds ``k`` *neuron groups*
(rows of ``H``, the ``components_``: how much each channel belongs to a group) and how strongly
each position expresses each group (``W``, reshaped back to ``[..., k]``). Non-negative matrix
factorization (NMF) suits post-ReLU activations: groups add up, they never cancel.

:class:`ChannelReducer` only reshapes ``[..., C] <-> [N, C]`` around a
``sklearn.decomposition`` estimator, so its results are scikit-learn's on the same data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sklearn.decomposition

from course_lib import checks


def _estimator_class(reduction_alg: Any) -> type:
    if isinstance(reduction_alg, str):
        cls = getattr(sklearn.decomposition, reduction_alg, None)
        if not isinstance(cls, type) or not hasattr(cls, "fit_transform"):
            choices = [
                name
                for name in sklearn.decomposition.__all__
                if hasattr(getattr(sklearn.decomposition, name), "fit_transform")
            ]
            raise ValueError(
                f"reduction_alg {reduction_alg!r} is not a sklearn.decomposition estimator; "
                f"choose one of: {', '.join(choices)}"
            )
        return cls
    if isinstance(reduction_alg, type) and hasattr(reduction_alg, "fit_transform"):
        return reduction_alg
    raise TypeError(
        f"reduction_alg must be a sklearn.decomposition class or its name, got {reduction_alg!r}"
    )


class ChannelReducer:
    """Reduces ``[..., C]`` activations to ``[..., n_components]`` with a scikit-learn estimator.

    Args:
        n_components: the number of groups ``k``.
        reduction_alg: a ``sklearn.decomposition`` class or its name: ``"NMF"`` (default),
            ``"PCA"``, ``"FastICA"``, ``"TruncatedSVD"``, ...
        **kwargs: passed to the estimator (e.g. ``random_state=0``, ``max_iter=500``).

    Attributes:
        estimator: the scikit-learn estimator.
        components_: ``[n_components, C]`` the groups' channel weights (after fitting).

    Raises:
        TypeError, ValueError: if ``n_components`` is not a positive int.
        ValueError: if ``reduction_alg`` is not an estimator of ``sklearn.decomposition``.
    """

    def __init__(self, n_components: int = 3, reduction_alg: Any = "NMF", **kwargs: Any):
        self.n_components = checks.positive_int("n_components", n_components)
        self.estimator = _estimator_class(reduction_alg)(n_components=self.n_components, **kwargs)
        self._channels: int | None = None

    @property
    def is_nonnegative(self) -> bool:
        """Whether the estimator needs non-negative data (NMF and its variants)."""
        return "NMF" in type(self.estimator).__name__

    def _flat(self, acts: Any, fitting: bool) -> tuple[np.ndarray, tuple[int, ...]]:
        array = np.asarray(acts)
        if hasattr(acts, "numpy") and callable(acts.numpy):
            array = np.asarray(acts.numpy())
        if array.ndim < 2:
            raise ValueError(
                f"acts must be [..., channels] with at least 2 dims, got {array.shape}"
            )
        if not fitting and self._channels is not None and array.shape[-1] != self._channels:
            raise ValueError(
                f"acts have {array.shape[-1]} channels, the reducer was fit on {self._channels}"
            )
        if self.is_nonnegative and np.min(array) < 0:
            raise ValueError(
                f"acts must be non-negative for {type(self.estimator).__name__} (min "
                f"{np.min(array):.3g}): use a post-ReLU layer, or reduction_alg='PCA'"
            )
        return array.reshape(-1, array.shape[-1]), array.shape[:-1]

    def fit(self, acts: Any) -> ChannelReducer:
        """Fits the estimator on ``[..., C]`` activations; returns ``self``."""
        flat, _ = self._flat(acts, fitting=True)
        self.estimator.fit(flat)
        self._channels = flat.shape[-1]
        return self

    def fit_transform(self, acts: Any) -> np.ndarray:
        """Fits on ``[..., C]`` activations and returns their ``[..., n_components]`` reduction."""
        flat, batch = self._flat(acts, fitting=True)
        reduced = self.estimator.fit_transform(flat)
        self._channels = flat.shape[-1]
        return reduced.reshape(*batch, reduced.shape[-1])

    def transform(self, acts: Any) -> np.ndarray:
        """``[..., C]`` activations to ``[..., n_components]`` with the fitted groups."""
        flat, batch = self._flat(acts, fitting=False)
        reduced = self.estimator.transform(flat)
        return reduced.reshape(*batch, reduced.shape[-1])

    def inverse_transform(self, reduced: Any) -> np.ndarray:
        """``[..., n_components]`` back to ``[..., C]`` (for NMF: ``W @ components_``)."""
        array = np.asarray(reduced)
        flat = self.estimator.inverse_transform(array.reshape(-1, array.shape[-1]))
        return flat.reshape(*array.shape[:-1], flat.shape[-1])

    @property
    def components_(self) -> np.ndarray:
        """``[n_components, C]``: each group's weight on each channel."""
        if not hasattr(self.estimator, "components_"):
            raise AttributeError("components_ exists after fit or fit_transform")
        return self.estimator.components_

    def __repr__(self) -> str:
        return f"ChannelReducer({self.estimator!r})"
