"""The short, seeded training run that a configuration exercise's check states as its budget."""

from __future__ import annotations


def train_briefly(model, x, y, *, epochs: int, loss: str = "sparse_categorical_crossentropy",
                  learning_rate: float = 0.02, batch_size: int = 32, seed: int = 0):
    """Compiles `model` with Adam(learning_rate) and `loss` and fits it for `epochs` epochs,
    silently and seeded: the fixed, small budget a configuration test states. Returns the model.

    Seed Keras (`keras.utils.set_random_seed`) before building the model as well, so that the
    initial weights are reproducible too."""
    import keras

    keras.utils.set_random_seed(seed)
    metrics = [] if loss == "mse" else ["accuracy"]
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=metrics)
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, shuffle=True)
    return model
