"""The adding-problem sweep: a vanilla RNN learns short sequences, sits on the baseline at long
ones, and clipping does not change that; the figure shows the data."""

import io

import numpy as np
import pytest
from matplotlib.figure import Figure

from rnn_tf.long_range import AddingSweep, adding_sweep, clip_label, plot_adding_sweep


def _made_up_sweep():
    return AddingSweep(
        seq_lens=(10, 50),
        test_loss={
            clip_label(None): np.array([0.02, 0.17]),
            clip_label(0.5): np.array([0.03, 0.16]),
        },
        baseline=np.array([0.166, 0.167]),
        budget={"units": 32, "epochs": 6, "n_train": 2000},
    )


# One test for the whole (reduced) sweep: under pytest-xdist a shared fixture would be trained
# again in each worker that runs one of its tests.
@pytest.mark.slow
def test_vanilla_rnn_learns_short_sums_and_sits_on_the_baseline_at_long_ones_clipped_or_not():
    # A reduced sweep: two of the five default lengths (10 and 100; 100 is the longest here),
    # both clip settings, the default budget (2000 sequences, 10 epochs of batch 50, 32 units,
    # Adam 0.01): four trainings instead of ten.
    sweep = adding_sweep(seq_lens=(10, 100), clipnorms=(None, 1.0))
    assert sweep.seq_lens == (10, 100)
    assert set(sweep.test_loss) == {"no clipping", "global_clipnorm=1"}
    assert sweep.budget["epochs"] == 10 and sweep.budget["n_train"] == 2000
    np.testing.assert_allclose(sweep.baseline, 1 / 6, atol=0.02)
    for label, (short, long) in sweep.test_loss.items():
        assert short < 0.5 * sweep.baseline[0], (
            f"{label}: MSE {short:.4f} at T=10 should be well below the baseline "
            f"{sweep.baseline[0]:.4f}"
        )
        assert long == pytest.approx(sweep.baseline[1], rel=0.1), (
            f"{label}: MSE {long:.4f} at T=100 should sit on the baseline {sweep.baseline[1]:.4f}"
        )
    lines = plot_adding_sweep(sweep).axes[0].get_lines()
    np.testing.assert_allclose(lines[1].get_ydata(), sweep.test_loss["global_clipnorm=1"])


def test_plot_draws_one_line_per_setting_and_the_baseline():
    sweep = _made_up_sweep()
    figure = plot_adding_sweep(sweep)
    assert isinstance(figure, Figure)
    lines = figure.axes[0].get_lines()
    assert len(lines) == 3
    np.testing.assert_allclose(lines[0].get_xdata(), [10, 50])
    np.testing.assert_allclose(lines[0].get_ydata(), sweep.test_loss["no clipping"])
    np.testing.assert_allclose(lines[-1].get_ydata(), sweep.baseline)


def test_plot_uses_no_pyplot_state():
    sweep = _made_up_sweep()
    import matplotlib.pyplot as plt  # only to check that no pyplot figure was created

    before = plt.get_fignums()
    figure = plot_adding_sweep(sweep)
    assert plt.get_fignums() == before
    assert [t.get_text() for t in figure.axes[0].get_legend().get_texts()][:2] == [
        "no clipping", "global_clipnorm=0.5",
    ]
    png = io.BytesIO()
    figure.savefig(png, format="png")  # renders without pyplot or a display
    assert png.getvalue().startswith(b"\x89PNG")


def test_bad_sweep_arguments_raise_a_value_error():
    with pytest.raises(ValueError, match="seq_lens"):
        adding_sweep(seq_lens=(1,))
    with pytest.raises(ValueError, match="clipnorms"):
        adding_sweep(seq_lens=(10,), clipnorms=())
