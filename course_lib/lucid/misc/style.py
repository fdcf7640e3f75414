"""Style as feature statistics: Gram matrices of a layer's activations and the style loss.

The *style* of an image, in the sense of Gatys et al.'s style transfer, is what survives when
the spatial arrangement of a layer's features is thrown away: which channels fire together.
For activations ``F`` of shape ``[H, W, C]`` that is the Gram matrix

    ``G[c, d] = (1 / (H W)) * sum over positions p of F[p, c] F[p, d]``,

the channels' (uncentred) co-activation averaged over the ``H W`` positions, so images of
different sizes have comparable Gram matrices. The style loss of an image against a style image
is the mean squared difference of their Gram matrices, summed over a few layers (early layers
carry colours and fine texture, later ones larger motifs). It does not care *where* a texture
appears, which is what lets a flat photograph's texture be painted onto a 3D object seen from
any view (the chapter ``differentiable_parameterizations``).

Style transfer balances it against a *content loss*, the mean squared difference of the
features themselves at a deeper layer: that one does care where things are, so it keeps the
content image's layout while the style loss repaints its textures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import tensorflow as tf


def _floating(name: str, value) -> tf.Tensor:
    tensor = tf.convert_to_tensor(value)
    if not tensor.dtype.is_floating:
        raise ValueError(f"{name} must be floating, got {tensor.dtype.name}")
    return tensor


def gram_matrix(
    activations: tf.Tensor, normalize: bool = True, name: str = "style_gram_matrix"
) -> tf.Tensor:
    """Gram matrices of activations over their spatial positions.

    Args:
        activations: `[A1, ..., An, H, W, C]` (channels last; ``n >= 0``, e.g. `[B, H, W, C]`).
        normalize: divide by the number of positions ``H W`` (the default); ``False`` gives the
            plain sum.

    Returns:
        `[A1, ..., An, C, C]` symmetric matrices
        ``G[c, d] = sum_{i, j} F[i, j, c] F[i, j, d] / (H W)``.

    Raises:
        ValueError: if ``activations`` has fewer than 3 dimensions or is not floating.
    """
    with tf.name_scope(name):
        activations = _floating("activations", activations)
        if activations.shape.rank is None or activations.shape.rank < 3:
            raise ValueError(
                f"activations must be [..., H, W, C] with at least 3 dimensions, got shape "
                f"{activations.shape}"
            )
        dims = tf.shape(activations)
        positions = dims[-3] * dims[-2]
        features = tf.reshape(activations, tf.concat([dims[:-3], [positions, dims[-1]]], 0))
        gram = tf.linalg.matmul(features, features, transpose_a=True)
        if normalize:
            gram /= tf.cast(positions, gram.dtype)
        return gram


def _as_list(value) -> tuple[list, list | None]:
    """Values of a mapping (with its keys) or a sequence (keys None); a tensor is one item."""
    if isinstance(value, Mapping):
        return list(value.values()), list(value.keys())
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value), None
    return [value], None


def _paired_layers(
    targets, activations, weights, target_name: str
) -> list[tuple[tf.Tensor, tf.Tensor, float]]:
    """``(target, activations, weight)`` per layer, matched by key (mappings) or by order."""
    target_values, target_keys = _as_list(targets)
    if isinstance(activations, Mapping) and target_keys is not None:
        missing = [key for key in target_keys if key not in activations]
        if missing or len(activations) != len(target_keys):
            raise ValueError(
                f"activations must have the keys of {target_name} {target_keys}, got "
                f"{list(activations)}"
            )
        features = [activations[key] for key in target_keys]
    else:
        features, _ = _as_list(activations)
    if len(features) != len(target_values) or not target_values:
        raise ValueError(
            f"need one activation tensor per {target_name} entry: got {len(features)} "
            f"activations and {len(target_values)} {target_name} entries"
        )
    if weights is None:
        weights = [1.0] * len(target_values)
    elif isinstance(weights, Mapping):
        if target_keys is None:
            raise ValueError(f"weights is a mapping but {target_name} is not")
        weights = [weights[key] for key in target_keys]
    if len(weights) != len(target_values):
        raise ValueError(f"need {len(target_values)} weights, got {len(weights)}")
    pairs = []
    for target, feature, weight in zip(target_values, features, weights, strict=True):
        feature = _floating("activations", feature)
        target = tf.cast(_floating(target_name, target), feature.dtype)
        pairs.append((target, feature, float(weight)))
    return pairs


def _weighted_sum(
    targets,
    activations,
    weights,
    target_name: str,
    layer_loss: Callable[[int, tf.Tensor, tf.Tensor], tf.Tensor],
) -> tf.Tensor:
    """``sum over layers l of w_l * layer_loss(l, target_l, activations_l)``, a scalar tensor."""
    total = 0.0
    pairs = _paired_layers(targets, activations, weights, target_name)
    for index, (target, feature, weight) in enumerate(pairs):
        total += weight * layer_loss(index, target, feature)
    return tf.convert_to_tensor(total)


def style_loss(
    target_grams,
    activations,
    weights: Sequence[float] | Mapping[str, float] | None = None,
    name: str = "style_loss",
) -> tf.Tensor:
    """The Gram-matrix style loss of images against target style statistics.

    ``loss = sum over layers l of w_l * mean_{c, d} (G(F_l)[c, d] - G_l[c, d]) ** 2``, averaged
    over the images of the batch (a positive number to *minimize*).

    Args:
        target_grams: the style's Gram matrices, one per layer: `[C_l, C_l]` (or any shape that
            broadcasts against the images' Gram matrices); a sequence, a mapping layer name ->
            matrix, or a single tensor.
        activations: the images' activations, one `[B, H_l, W_l, C_l]` per layer, in the same
            order as ``target_grams`` (or a mapping with the same keys).
        weights: one weight per layer (same order or keys); default 1 each.

    Returns:
        A scalar: the weighted sum over layers of the mean squared Gram difference, averaged
        over the batch.

    Raises:
        ValueError: if the number of layers (or the keys) differ, or a layer's channel counts
            do not match.
    """

    def layer_loss(index: int, target: tf.Tensor, feature: tf.Tensor) -> tf.Tensor:
        gram = gram_matrix(feature)
        channels = feature.shape[-1]
        if target.shape.rank is not None and target.shape.rank >= 2:
            if target.shape[-1] is not None and channels is not None:
                if target.shape[-1] != channels or target.shape[-2] != channels:
                    raise ValueError(
                        f"layer {index}: target Gram matrix is {target.shape} but the "
                        f"activations have {channels} channels"
                    )
        per_image = tf.reduce_mean(tf.square(gram - target), axis=[-2, -1])
        return tf.reduce_mean(per_image)

    with tf.name_scope(name):
        return _weighted_sum(target_grams, activations, weights, "target_grams", layer_loss)


def content_loss(
    target_activations,
    activations,
    weights: Sequence[float] | Mapping[str, float] | None = None,
    name: str = "content_loss",
) -> tf.Tensor:
    """The content loss of style transfer: how far the images' features are from the content's.

    ``loss = sum over layers l of w_l * mean (F_l - P_l) ** 2``, the mean over the batch, the
    positions and the channels. Unlike the style loss it keeps *where* features are, so it
    holds the layout of the content image (or, for a texture seen from random views, of the
    content texture rendered from the same views).

    Args:
        target_activations: the content's activations, one `[B, H_l, W_l, C_l]` (or any shape
            that broadcasts against the images') per layer; a sequence, a mapping layer name ->
            activations, or a single tensor.
        activations: the images' activations, one `[B, H_l, W_l, C_l]` per layer, in the same
            order as ``target_activations`` (or a mapping with the same keys).
        weights: one weight per layer (same order or keys); default 1 each.

    Returns:
        A scalar: the weighted sum over layers of the mean squared feature difference.

    Raises:
        ValueError: if the number of layers (or the keys) differ, or a layer's shapes do not
            broadcast.
    """

    def layer_loss(index: int, target: tf.Tensor, feature: tf.Tensor) -> tf.Tensor:
        try:
            tf.broadcast_static_shape(target.shape, feature.shape)
        except ValueError as error:
            raise ValueError(
                f"layer {index}: target activations {target.shape} do not broadcast "
                f"against activations {feature.shape}"
            ) from error
        return tf.reduce_mean(tf.square(feature - target))

    with tf.name_scope(name):
        return _weighted_sum(
            target_activations, activations, weights, "target_activations", layer_loss
        )
