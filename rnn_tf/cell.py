"""One step of a vanilla RNN: h_t = tanh(W_h h_{t-1} + W_x x_t + b).

Lesson 1 (the recurrence): the cell that `keras.layers.RNN` and `rnn_tf.SimpleRNN` loop over time.
"""

import numbers

import keras
from keras import activations, constraints, initializers, ops, regularizers

# The one private Keras import: `keras.layers.RNN` draws a cell's dropout masks once per sequence
# (and resets them after) only for cells that inherit this mix-in; without it a cell inside
# `keras.layers.RNN` would get a fresh mask at every step. The mix-in draws the masks exactly as
# Keras's own SimpleRNNCell does, so the same `seed` gives the same masks.
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

WEIGHT_OPTIONS = (
    "kernel_initializer", "recurrent_initializer", "bias_initializer",
    "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
    "kernel_constraint", "recurrent_constraint", "bias_constraint",
)


def get_activation(activation):
    """`keras.activations.get`, with an error that names what was expected and what was given."""
    try:
        return activations.get(activation)
    except (ValueError, TypeError):
        raise ValueError(
            "`activation` should be the name of a Keras activation (such as 'tanh' or 'relu'), "
            f"a callable, or None; got activation={activation!r}."
        ) from None


def check_units(units):
    if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:
        raise ValueError(f"`units` should be a positive integer; got units={units!r}.")


@keras.saving.register_keras_serializable(package="rnn_tf")
class SimpleRNNCell(keras.layers.Layer, DropoutRNNCell):
    """One step of a vanilla RNN, a drop-in replacement for `keras.layers.SimpleRNNCell`.

    The lecture writes the step for one example as a column vector:

        h_t = tanh(W_h h_{t-1} + W_x x_t + b),   W_x: (H, D),  W_h: (H, H),  b: (H,)

    Keras keeps a batch as rows, one example per row, so it transposes the equation to
    h_t = tanh(x_t W_x^T + h_{t-1} W_h^T + b) and stores the transposed matrices:
    `kernel` is W_x^T with shape (D, H) and `recurrent_kernel` is W_h^T with shape (H, H).
    In `call` below, `W_x` and `W_h` name those stored matrices, so the code reads
    `x_t @ W_x + h_prev @ W_h + b`.

    Args:
        units: Positive integer, the hidden size H.
        activation: Activation applied to z_t. Default `"tanh"`; `None` means linear.
        use_bias: Whether to add the bias b. Default `True`.
        kernel_initializer, recurrent_initializer, bias_initializer: Initializers for
            `kernel`, `recurrent_kernel` and `bias`. Defaults: `"glorot_uniform"`,
            `"orthogonal"`, `"zeros"` (Keras's).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: Optional regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: Optional constraints.
        dropout: Fraction of the input units x_t to drop (training only). Default 0.
        recurrent_dropout: Fraction of the state units h_{t-1} to drop (training only).
            Default 0. One mask per sequence, the same at every step.
        seed: Seed for the dropout masks; the same seed draws the same masks as Keras's cell.

    Call arguments:
        x_t: Inputs at one step, shape `(batch, features)`.
        states: `[h_prev]`, the previous state, shape `(batch, units)`.
        training: Whether dropout applies.

    Returns:
        `(h_t, [h_t])`: the output and the new state, both of shape `(batch, units)`.

    Example:

    ```python
    x = np.random.random((8, 20, 32)).astype("float32")
    rnn = keras.layers.RNN(rnn_tf.SimpleRNNCell(64), return_sequences=True)
    rnn(x).shape  # (8, 20, 64)
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
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        check_units(units)
        super().__init__(**kwargs)
        self.seed = seed
        # Made before the initializers, as Keras does: with seed=None each draws from the global
        # seed, so this order gives the same weights as Keras after keras.utils.set_random_seed.
        self.seed_generator = keras.random.SeedGenerator(seed)  # read by DropoutRNNCell
        self.units = int(units)  # a NumPy integer would upset keras.layers.RNN
        self.activation = get_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        # Keras clips the rates into [0, 1] rather than rejecting them; so do we.
        self.dropout = min(1.0, max(0.0, dropout))
        self.recurrent_dropout = min(1.0, max(0.0, recurrent_dropout))
        self.state_size = self.units  # read by keras.layers.RNN
        self.output_size = self.units

    def build(self, input_shape):
        # Keras's names, order and shapes, so set_weights/get_weights interchange with Keras.
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )  # (D, H) = W_x^T
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )  # (H, H) = W_h^T
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.units,),
                name="bias",
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )  # (H,)

    def call(self, x_t, states, training=False):
        h_prev = states[0] if isinstance(states, (list, tuple)) else states  # (B, H)
        # Dropout masks are drawn once per sequence (same order as Keras: inputs, then state).
        x_mask = self.get_dropout_mask(x_t)  # (B, D) or None
        h_mask = self.get_recurrent_dropout_mask(h_prev)  # (B, H) or None
        if training and x_mask is not None:
            x_t = x_t * x_mask
        if training and h_mask is not None:
            h_prev = h_prev * h_mask

        W_x, W_h = self.kernel, self.recurrent_kernel  # (D, H), (H, H): stored transposed
        b = self.bias if self.use_bias else 0.0  # (H,)
        z_t = x_t @ W_x + h_prev @ W_h + b  # (B, H)
        h_t = self.activation(z_t)  # (B, H)
        return h_t, [h_t]

    def get_initial_state(self, batch_size=None):
        """h_0 = 0, as in the lecture."""
        return [ops.zeros((batch_size, self.units), dtype=self.compute_dtype)]

    def get_config(self):
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **{name: keras.saving.serialize_keras_object(getattr(self, name))
               for name in WEIGHT_OPTIONS},
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}
