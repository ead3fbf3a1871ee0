"""The adding-problem sweep: a vanilla RNN learns short sequences, sits on the baseline at long
ones, and clipping does not change that; the figure shows the data."""

import io

import numpy as np
import pytest
from matplotlib.figure import Figure

from rnn_tf.long_range import AddingSweep, adding_sweep, clip_label, plot_adding_sweep


@pytest.fixture(scope="module")
def reduced_sweep():
    # A reduced sweep: two of the five default lengths (10 and 100; 100 is the longest here),
    # both clip settings, the default budget (2000 sequences, 6 epochs of batch 50, 32 units,
    # Adam 0.01): four trainings instead of ten.
    return adding_sweep(seq_lens=(10, 100), clipnorms=(None, 1.0))


@pytest.mark.slow
def test_loss_is_well_below_the_baseline_at_the_shortest_length(reduced_sweep):
    baseline = reduced_sweep.baseline[0]
    assert baseline == pytest.approx(1 / 6, abs=0.02)
    for label, losses in reduced_sweep.test_loss.items():
        assert losses[0] < 0.5 * baseline, (
            f"{label}: MSE {losses[0]:.4f} at T=10; baseline {baseline:.4f}"
        )


@pytest.mark.slow
def test_loss_stays_near_the_baseline_at_the_longest_length_with_or_without_clipping(
    reduced_sweep,
):
    baseline = reduced_sweep.baseline[-1]
    for label, losses in reduced_sweep.test_loss.items():
        assert losses[-1] == pytest.approx(baseline, rel=0.1), (
            f"{label}: MSE {losses[-1]:.4f} at T=100 should sit on the baseline {baseline:.4f}"
        )


@pytest.mark.slow
def test_sweep_records_its_budget_and_both_clip_settings(reduced_sweep):
    assert reduced_sweep.seq_lens == (10, 100)
    assert set(reduced_sweep.test_loss) == {"no clipping", "global_clipnorm=1"}
    assert all(losses.shape == (2,) for losses in reduced_sweep.test_loss.values())
    assert reduced_sweep.budget["epochs"] == 6 and reduced_sweep.budget["n_train"] == 2000
    assert reduced_sweep.seconds > 0


@pytest.mark.slow
def test_plot_draws_one_line_per_setting_and_the_baseline(reduced_sweep):
    figure = plot_adding_sweep(reduced_sweep)
    assert isinstance(figure, Figure)
    lines = figure.axes[0].get_lines()
    assert len(lines) == 3
    np.testing.assert_allclose(lines[0].get_ydata(), reduced_sweep.test_loss["no clipping"])
    np.testing.assert_allclose(lines[-1].get_ydata(), reduced_sweep.baseline)


def test_plot_uses_no_pyplot_state():
    sweep = AddingSweep(
        seq_lens=(10, 50),
        test_loss={
            clip_label(None): np.array([0.02, 0.17]),
            clip_label(0.5): np.array([0.03, 0.16]),
        },
        baseline=np.array([0.166, 0.167]),
        budget={"units": 32, "epochs": 6, "n_train": 2000},
    )
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
