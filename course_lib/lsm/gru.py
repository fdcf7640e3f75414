"""Recurrent fusion of unprojected views: a 3D convolutional GRU (Kar et al., 2017).

One step of :class:`ConvGRU3D` takes a grid ``x`` `[B, R, R, R, Cin]` and the state ``h``
`[B, R, R, R, Cs]`; every gate is a 3D convolution (kernel ``k x k x k``, padding "same") of
the concatenated grids:

    z  = sigmoid(conv_z([x, h]))          update gate
    r  = sigmoid(conv_r([x, h]))          reset gate
    h~ = tanh(conv_h([x, r * h]))         candidate
    h' = (1 - z) * h + z * h~

so a zero update gate keeps the state and an update gate of one replaces it by the candidate.
:func:`fuse_views` runs the cell over the views of a batch of grids `[B, V, R, R, R, C]`.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from course_lib import checks


def _differ(want, have) -> bool:
    """Whether two shapes of one rank differ where both are known."""
    return any(w is not None and h is not None and w != h for w, h in zip(want, have, strict=True))


@keras.saving.register_keras_serializable(package="course_lib.lsm")
class ConvGRU3D(keras.layers.Layer):
    """A 3D convolutional GRU cell; ``call(inputs, state=None)`` returns the new state.

    ``inputs`` `[B, R1, R2, R3, Cin]`, ``state`` `[B, R1, R2, R3, filters]` (None: zeros);
    returns `[B, R1, R2, R3, filters]` (see the module docstring for the equations). The three
    convolutions are the sublayers ``update_gate``, ``reset_gate`` and ``candidate``
    (``keras.layers.Conv3D``, padding "same"), built on the first call.

    Args:
        filters: Cs, the state's channels.
        kernel_size: k, the side of the cubic convolution kernels.
        kernel_initializer: initializer of the three kernels.
        bias_initializer: initializer of the three biases.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int = 3,
        kernel_initializer: str | keras.initializers.Initializer = "glorot_uniform",
        bias_initializer: str | keras.initializers.Initializer = "zeros",
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.filters = checks.positive_int("filters", filters)
        self.kernel_size = checks.positive_int("kernel_size", kernel_size)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

        def conv(name: str) -> keras.layers.Conv3D:
            return keras.layers.Conv3D(
                self.filters,
                self.kernel_size,
                padding="same",
                kernel_initializer=keras.initializers.get(
                    keras.initializers.serialize(self.kernel_initializer)
                ),
                bias_initializer=keras.initializers.get(
                    keras.initializers.serialize(self.bias_initializer)
                ),
                dtype=self.dtype_policy,
                name=name,
            )

        self.update_gate = conv("update_gate")
        self.reset_gate = conv("reset_gate")
        self.candidate = conv("candidate")

    def build(self, input_shape) -> None:
        input_shape = tuple(input_shape)
        if len(input_shape) != 5 or input_shape[-1] is None:
            raise ValueError(
                f"inputs must have shape [B, R1, R2, R3, Cin] with a known Cin, got {input_shape}"
            )
        joint = (*input_shape[:-1], int(input_shape[-1]) + self.filters)
        for layer in (self.update_gate, self.reset_gate, self.candidate):
            layer.build(joint)

    def _check(self, inputs: tf.Tensor, state: tf.Tensor | None) -> None:
        if inputs.shape.rank is not None and inputs.shape.rank != 5:
            raise ValueError(
                f"inputs must have shape [B, R1, R2, R3, Cin], got {tuple(inputs.shape)}"
            )
        if state is None or state.shape.rank is None:
            return
        want = (*inputs.shape[:-1], self.filters)
        if state.shape.rank != 5 or _differ(want, state.shape):
            raise ValueError(
                f"state must have shape [B, R1, R2, R3, filters] = {want} for inputs of shape "
                f"{tuple(inputs.shape)}, got {tuple(state.shape)}"
            )

    def call(self, inputs, state=None) -> tf.Tensor:
        inputs = tf.convert_to_tensor(inputs, dtype=self.compute_dtype)
        if state is not None:
            state = tf.convert_to_tensor(state, dtype=self.compute_dtype)
        self._check(inputs, state)
        if state is None:
            state = self.initial_state(inputs)
        joint = tf.concat([inputs, state], axis=-1)
        update = tf.sigmoid(self.update_gate(joint))
        reset = tf.sigmoid(self.reset_gate(joint))
        candidate = tf.tanh(self.candidate(tf.concat([inputs, reset * state], axis=-1)))
        return (1 - update) * state + update * candidate

    def initial_state(self, inputs: tf.Tensor) -> tf.Tensor:
        """The zero state `[B, R1, R2, R3, filters]` for inputs `[B, R1, R2, R3, Cin]`."""
        inputs = tf.convert_to_tensor(inputs, dtype=self.compute_dtype)
        size = tf.concat([tf.shape(inputs)[:-1], [self.filters]], axis=0)
        return tf.zeros(size, dtype=self.compute_dtype)

    def compute_output_shape(self, inputs_shape, state_shape=None):
        return (*tuple(inputs_shape)[:-1], self.filters)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
        )
        return config


def fuse_views(
    cell: ConvGRU3D,
    grids: tf.Tensor,
    initial_state: tf.Tensor | None = None,
    return_sequences: bool = False,
) -> tf.Tensor | tuple[tf.Tensor, tf.Tensor]:
    """Runs a recurrent cell over the views of unprojected grids, first view first.

    Args:
        cell: a :class:`ConvGRU3D` (or any layer called as ``cell(inputs, state)``).
        grids: `[B, V, R1, R2, R3, C]` one grid per view (V >= 1; V may be unknown until run
            time, e.g. in a ``tf.function`` traced with ``V = None``).
        initial_state: `[B, R1, R2, R3, Cs]` the state before the first view (None: zeros).
        return_sequences: whether to also return the state after every view.

    Returns:
        `[B, R1, R2, R3, Cs]` the state after the last view; with ``return_sequences``,
        ``(final, states)`` with states `[B, V, R1, R2, R3, Cs]` (``states[:, -1] == final``).

    Raises:
        ValueError: naming ``grids`` if it is not of rank 6 or has no view, naming
            ``initial_state`` if its shape does not fit (see :class:`ConvGRU3D`).
    """
    return_sequences = checks.boolean("return_sequences", return_sequences)
    grids = tf.convert_to_tensor(grids)
    if grids.shape.rank is not None and grids.shape.rank != 6:
        raise ValueError(f"grids must have shape [B, V, R1, R2, R3, C], got {tuple(grids.shape)}")
    views = grids.shape[1]
    if views == 0:
        raise ValueError("grids must hold at least one view (V >= 1), got V = 0")
    if initial_state is not None:
        initial_state = tf.convert_to_tensor(initial_state)
        have = initial_state.shape
        want = [grids.shape[0], *grids.shape[2:5], getattr(cell, "filters", None)]
        if have.rank is not None and (have.rank != 5 or _differ(want, have)):
            want_text = ", ".join("?" if w is None else str(w) for w in want)
            raise ValueError(
                f"initial_state must have shape [B, R1, R2, R3, Cs] = [{want_text}] for grids "
                f"of shape {tuple(grids.shape)}, got {tuple(have)}"
            )
    state = cell(grids[:, 0], initial_state)  # the first step also builds the cell
    if views is not None:
        states = [state]
        for view in range(1, views):
            state = cell(grids[:, view], state)
            states.append(state)
        if return_sequences:
            return state, tf.stack(states, axis=1)
        return state
    # V unknown until run time: a while loop, the states gathered in a TensorArray (never empty)
    count = tf.shape(grids)[1]
    states = tf.TensorArray(state.dtype, size=count, element_shape=state.shape).write(0, state)

    def step(view, state, states):
        state = cell(tf.gather(grids, view, axis=1), state)
        return view + 1, state, states.write(view, state)

    _, final, states = tf.while_loop(
        lambda view, *_: view < count, step, (tf.constant(1), state, states)
    )
    if return_sequences:
        return final, tf.transpose(states.stack(), [1, 0, 2, 3, 4, 5])
    return final
