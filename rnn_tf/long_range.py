"""Where a vanilla RNN stops learning: adding-problem test loss against sequence length.

Lesson 4 (long-range dependencies; why clipping does not cure vanishing gradients).

`adding_sweep` trains a fresh `many_to_one` vanilla RNN (Keras's default initialisation:
Glorot-uniform kernel, orthogonal recurrent kernel, zero bias) on `tasks.adding` for each sequence
length, once without and once with `global_clipnorm`, and records the test MSE next to the
baseline of always predicting 1 (MSE 1/6). `plot_adding_sweep` draws it.

What it shows: at short lengths the network beats the baseline; at longer ones the
gradient from the output no longer reaches the marked values and the loss sits on the baseline.
Clipping changes nothing there: it only shrinks gradients that are too large, and the trouble is
gradients that are too small.

Budget (the defaults): lengths 10, 25, 50, 100, 200; 2000 training sequences, batch 50, 10 epochs
(400 Adam steps, learning rate 0.01), 32 units; 1000 test sequences. The ten runs took 24 s on
2 CPU cores. (At 6 epochs T = 10 was learnt or not depending on the seed: 10 learn it for seeds
0, 1 and 2, with and without clipping.)
At this budget learning stops between T = 10 and T = 25. A longer budget moves that point to
longer sequences (an experiment to try: `epochs=30`); clipping is not what moves it.

Example:

```python
sweep = adding_sweep(seq_lens=(10, 100))
sweep.test_loss["no clipping"]  # array of 2 test MSEs
figure = plot_adding_sweep(sweep)
figure.savefig("adding.png")
```
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import keras
import numpy as np
from matplotlib.figure import Figure

from rnn_tf import tasks
from rnn_tf.configurations import many_to_one

__all__ = ["AddingSweep", "adding_sweep", "plot_adding_sweep", "clip_label"]


def clip_label(clipnorm: float | None) -> str:
    """The key of one curve in `AddingSweep.test_loss`: "no clipping" or "global_clipnorm=1.0"."""
    return "no clipping" if clipnorm is None else f"global_clipnorm={clipnorm:g}"


@dataclass
class AddingSweep:
    """The data of one sweep.

    Attributes:
        seq_lens: the sequence lengths T, in order.
        test_loss: {clip_label(clipnorm): test MSE per length, shape (len(seq_lens),)}.
        baseline: test MSE of always predicting 1, per length (expected 1/6 each).
        budget: the training settings used, so a plot or a report can state them.
        seconds: wall-clock time of the whole sweep.
    """

    seq_lens: tuple[int, ...]
    test_loss: dict[str, np.ndarray]
    baseline: np.ndarray
    budget: dict = field(default_factory=dict)
    seconds: float = 0.0


def _train_once(data: tasks.TaskData, clipnorm, units, epochs, batch_size, learning_rate, seed):
    keras.utils.set_random_seed(seed)  # same initial weights with and without clipping
    model = many_to_one(input_dim=2, output_dim=1, units=units, output_activation=None)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate, global_clipnorm=clipnorm), loss="mse"
    )
    model.fit(data.x_train, data.y_train, batch_size=batch_size, epochs=epochs, verbose=0)
    return float(model.evaluate(data.x_test, data.y_test, batch_size=500, verbose=0))


def adding_sweep(
    seq_lens=(10, 25, 50, 100, 200),
    clipnorms=(None, 1.0),
    units: int = 32,
    n_train: int = 2000,
    n_test: int = 1000,
    epochs: int = 10,
    batch_size: int = 50,
    learning_rate: float = 0.01,
    seed: int = 0,
) -> AddingSweep:
    """Train a vanilla RNN on the adding problem at each length, with each clipping setting.

    Args:
        seq_lens: sequence lengths T to try.
        clipnorms: `global_clipnorm` values for Adam; None means no clipping.
        units, n_train, n_test, epochs, batch_size, learning_rate: the training budget.
        seed: seeds both the data (per length) and the weights (the same for every clip setting).

    Returns:
        An `AddingSweep`.
    """
    seq_lens = tuple(int(t) for t in seq_lens)
    if not seq_lens or min(seq_lens) < 2:
        raise ValueError(f"`seq_lens` must be lengths >= 2; got {seq_lens}.")
    if not clipnorms:
        raise ValueError("`clipnorms` must name at least one setting (None for no clipping).")
    start = time.perf_counter()
    test_loss = {clip_label(c): np.zeros(len(seq_lens)) for c in clipnorms}
    baseline = np.zeros(len(seq_lens))
    for i, seq_len in enumerate(seq_lens):
        data = tasks.adding(n_train=n_train, n_test=n_test, seq_len=seq_len, seed=seed)
        baseline[i] = data.baseline
        for clipnorm in clipnorms:
            test_loss[clip_label(clipnorm)][i] = _train_once(
                data, clipnorm, units, epochs, batch_size, learning_rate, seed
            )
    budget = dict(
        units=units, n_train=n_train, n_test=n_test, epochs=epochs, batch_size=batch_size,
        learning_rate=learning_rate, optimizer="Adam", seed=seed,
    )
    return AddingSweep(seq_lens, test_loss, baseline, budget, time.perf_counter() - start)


def plot_adding_sweep(sweep: AddingSweep) -> Figure:
    """Test MSE against sequence length, one line per clipping setting, and the baseline.

    Built with matplotlib's object API (no pyplot state), so it is safe in scripts and notebooks:
    display it in Jupyter by leaving it as a cell's last expression, or call `.savefig(path)`.
    """
    figure = Figure(figsize=(6, 4), layout="constrained")
    axes = figure.add_subplot()
    markers = "os^vD"
    for i, (label, losses) in enumerate(sweep.test_loss.items()):
        axes.plot(sweep.seq_lens, losses, marker=markers[i % len(markers)], label=label)
    axes.plot(sweep.seq_lens, sweep.baseline, "k--", label="always predict 1 (MSE 1/6)")
    axes.set_xscale("log")
    axes.set_xticks(sweep.seq_lens, [str(t) for t in sweep.seq_lens])
    axes.set_ylim(bottom=0)
    axes.set_xlabel("sequence length T")
    axes.set_ylabel("test MSE")
    b = sweep.budget
    axes.set_title(
        f"Adding problem, vanilla RNN ({b.get('units')} units, {b.get('epochs')} epochs "
        f"of {b.get('n_train')})",
        fontsize="medium",
    )
    axes.legend()
    return figure
