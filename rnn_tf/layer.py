"""The vanilla RNN over a whole sequence, a drop-in replacement for `keras.layers.SimpleRNN`.

Lesson 1 (the recurrence, unrolled over time; stacking; bidirectional): `rnn_tf.SimpleRNN`.
"""

import keras
from keras import activations, regularizers

from rnn_tf import fast_path
from rnn_tf.cell import WEIGHT_OPTIONS, SimpleRNNCell


def _cell_option(name):
    """A read-only property that shows the cell's option on the layer, as Keras's layer does."""
    return property(lambda self: getattr(self.cell, name), doc=f"The cell's `{name}`.")


def _shape(tensor):
    return tuple(tensor.shape)


@keras.saving.register_keras_serializable(package="rnn_tf")
class SimpleRNN(keras.layers.RNN):
    """A vanilla RNN over a sequence: `rnn_tf.SimpleRNNCell` looped by `keras.layers.RNN`.

    It takes every argument of `keras.layers.SimpleRNN`, holds the same weights
    (`kernel`, `recurrent_kernel`, `bias`, in that order) and gives the same outputs and
    gradients, so either can replace the other, inside `keras.layers.Bidirectional` too.
    Two deliberate differences from Keras 3's layer: `activity_regularizer` takes effect
    (Keras's SimpleRNN accepts it and drops it), and `seed` is kept in `get_config` (as Keras's
    LSTM and GRU keep theirs), so a reloaded or copied layer draws the same dropout masks.

    Args:
        units: Positive integer, the hidden size H.
        activation, use_bias, *_initializer, *_regularizer, *_constraint, dropout,
            recurrent_dropout, seed: as for `rnn_tf.SimpleRNNCell`.
        activity_regularizer: Optional regularizer on the layer's output.
        return_sequences: Return every h_t, `(batch, timesteps, units)`, rather than the last,
            `(batch, units)`. Default `False`.
        return_state: Also return the last state h_T. Default `False`.
        go_backwards: Read the sequence from its end, and return the outputs in that order.
        stateful: Start each batch from the previous batch's last state (a fixed batch size is
            needed); `reset_state()` sets it back to zeros.
        unroll: Unroll the loop over time in the graph (short, fixed-length sequences only).

    Call arguments:
        sequences: A 3-D tensor `(batch, timesteps, features)`.
        initial_state: h_0, a tensor `(batch, units)` or a list of one; zeros by default.
        mask: Boolean `(batch, timesteps)`; a masked step keeps the previous state and output.
        training: Whether dropout applies.

    Returns:
        The output (last h_t or all of them), followed by h_T if `return_state`.

    Example:

    ```python
    x = np.random.random((8, 20, 32)).astype("float32")
    rnn_tf.SimpleRNN(64, return_sequences=True)(x).shape  # (8, 20, 64)
    keras.layers.Bidirectional(rnn_tf.SimpleRNN(64, return_sequences=True))(x).shape
    # (8, 20, 128)
    ```
    """

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        seed=None,
        **kwargs,
    ):
        cell = SimpleRNNCell(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name="simple_rnn_cell",  # Keras's name, so weight paths match
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )

    # The cell's options, readable on the layer as on Keras's.
    units = _cell_option("units")
    activation = _cell_option("activation")
    use_bias = _cell_option("use_bias")
    kernel_initializer = _cell_option("kernel_initializer")
    recurrent_initializer = _cell_option("recurrent_initializer")
    bias_initializer = _cell_option("bias_initializer")
    kernel_regularizer = _cell_option("kernel_regularizer")
    recurrent_regularizer = _cell_option("recurrent_regularizer")
    bias_regularizer = _cell_option("bias_regularizer")
    kernel_constraint = _cell_option("kernel_constraint")
    recurrent_constraint = _cell_option("recurrent_constraint")
    bias_constraint = _cell_option("bias_constraint")
    dropout = _cell_option("dropout")
    recurrent_dropout = _cell_option("recurrent_dropout")
    seed = _cell_option("seed")

    def build(self, sequences_shape, initial_state_shape=None):
        self._check_sequences_shape(sequences_shape)
        super().build(sequences_shape, initial_state_shape)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        self._check_sequences_shape(_shape(sequences))
        initial_state = self._checked_initial_state(sequences, initial_state)
        self._check_mask(sequences, mask)
        # The fast path, rnn_tf/fast_path.py, gives the same numbers faster, with the
        # lecture's BPTT as its gradient. It applies without mask, dropout, stateful or unroll, for
        # tanh/sigmoid/relu/linear in float32/float64; everything else takes the general path.
        if fast_path.applies_to(self, mask, training):
            return fast_path.layer_call(self, sequences, initial_state)
        # The general path: keras.layers.RNN runs self.cell over time, handling masking,
        # dropout, go_backwards, stateful and unroll.
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    # --- bad input: say what was expected and what was given, before TensorFlow does ---

    def _check_sequences_shape(self, shape):
        if len(shape) != 3:
            raise ValueError(
                f"{self.name} expects a 3-D input (batch, timesteps, features); got an input of "
                f"shape {tuple(shape)} ({len(shape)}-D). For a single sequence, add a batch axis."
            )
        if getattr(self.cell, "kernel", None) is not None:
            features = self.cell.kernel.shape[0]
            if shape[-1] is not None and shape[-1] != features:
                raise ValueError(
                    f"{self.name} was built for {features} features per step, so it expects "
                    f"inputs of shape (batch, timesteps, {features}); got shape {tuple(shape)}."
                )

    def _checked_initial_state(self, sequences, initial_state):
        if initial_state is None:
            return None
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [
            initial_state]
        if len(states) != 1:
            raise ValueError(
                f"{self.name} expects one initial state h_0; got a list of {len(states)}."
            )
        expected = (sequences.shape[0], self.cell.units)
        given = _shape(states[0])
        if len(given) != 2 or any(e is not None and g is not None and e != g
                                  for e, g in zip(expected, given, strict=True)):
            raise ValueError(
                f"{self.name} expects an initial state of shape (batch, units) = {expected}; "
                f"got shape {given}."
            )
        return states

    def _check_mask(self, sequences, mask):
        if mask is None:
            return
        expected = tuple(sequences.shape[:2])
        given = _shape(mask)
        if len(given) != 2 or any(e is not None and g is not None and e != g
                                  for e, g in zip(expected, given, strict=True)):
            raise ValueError(
                f"{self.name} expects a mask of shape (batch, timesteps) = {expected}; "
                f"got shape {given}."
            )

    def get_config(self):
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **{name: keras.saving.serialize_keras_object(getattr(self, name))
               for name in WEIGHT_OPTIONS},
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            # Keras's SimpleRNN leaves its seed out of its config; we keep it, so that
            # from_config (and Bidirectional's copies) draw the same dropout masks.
            "seed": self.seed,
        }
        base_config = super().get_config()
        del base_config["cell"]  # rebuilt from the options above
        return {**base_config, **config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
