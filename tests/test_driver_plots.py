"""driver/plots.py: learning curves and grid summaries a person reads at a
glance, drawn without touching matplotlib's global state.

The figures are checked as objects (panels, marks, axis ranges, where the
text lands once drawn); the PNG files of real runs are written by
test_driver_loop.py and test_driver_grid.py.
"""
import matplotlib
import pytest

from estweight.driver import plots


def _history(aucs, losses):
  return [{"global_step": 10 * (i + 1), "train_loss": loss * 1.1,
           "metrics": {"auc": auc, "loss": loss, "global_step": 10 * (i + 1)}}
          for i, (auc, loss) in enumerate(zip(aucs, losses))]


HISTORY = _history([0.90, 0.985, 0.97, 0.96], [0.50, 0.30, 0.25, 0.24])
TRIALS = [
    {"trial": 0, "params": {"learning_rate": 0.1, "hidden_units": [64, 32]},
     "score": 0.967},
    {"trial": 1, "params": {"learning_rate": 0.01, "hidden_units": [64, 32]},
     "score": 0.985},
    {"trial": 2, "params": {"learning_rate": 0.001, "hidden_units": [64, 32]},
     "score": 0.971},
]


def _inside_figure(fig, artist):
  renderer = fig.canvas.get_renderer()
  box, figure_box = artist.get_window_extent(renderer), fig.bbox
  return (box.x0 >= figure_box.x0 - 0.5 and box.x1 <= figure_box.x1 + 0.5 and
          box.y0 >= figure_box.y0 - 0.5 and box.y1 <= figure_box.y1 + 0.5)


def _vertical_lines(ax):
  return [list(l.get_xdata()) for l in ax.get_lines()
          if len(l.get_xdata()) == 2 and l.get_xdata()[0] == l.get_xdata()[1]]


def test_learning_curve_has_one_panel_per_quantity():
  fig = plots.learning_curve_figure(HISTORY, "auc", best_step=20)
  loss_ax, auc_ax = fig.axes
  assert (loss_ax.get_ylabel(), auc_ax.get_ylabel()) == ("loss", "eval auc")
  assert [l.get_label() for l in loss_ax.get_lines()][:2] == [
      "train loss (last step of each iteration)", "eval loss"]
  assert list(auc_ax.get_lines()[0].get_ydata()) == [0.90, 0.985, 0.97, 0.96]
  assert auc_ax.get_xlabel() == "global step"


def test_learning_curve_marks_the_best_step_on_every_panel():
  fig = plots.learning_curve_figure(HISTORY, "auc", best_step=20)
  loss_ax, auc_ax = fig.axes
  assert _vertical_lines(loss_ax) == [[20, 20]]
  assert _vertical_lines(auc_ax) == [[20, 20]]
  assert [t.get_text() for t in auc_ax.texts] == ["best auc 0.985\nat step 20"]
  # The loss there is not the best loss: it says so.
  assert [t.get_text() for t in loss_ax.texts] == ["eval loss 0.3\nat step 20"]
  assert fig._suptitle.get_text() == "learning curve (best auc at step 20)"  # pylint: disable=protected-access


def test_learning_curve_legend_sits_above_the_data():
  fig = plots.learning_curve_figure(HISTORY, "auc", best_step=20)
  fig.canvas.draw()
  loss_ax = fig.axes[0]
  renderer = fig.canvas.get_renderer()
  legend = loss_ax.get_legend().get_window_extent(renderer)
  assert legend.y0 >= loss_ax.get_window_extent(renderer).y1 - 1
  assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == [
      "train loss (last step of each iteration)", "eval loss", "eval auc"]
  assert _inside_figure(fig, loss_ax.get_legend())
  assert all(_inside_figure(fig, t) for ax in fig.axes for t in ax.texts)


def test_learning_curve_of_the_loss_alone_has_one_panel():
  fig = plots.learning_curve_figure(HISTORY, "loss", best_step=40)
  [ax] = fig.axes
  assert [t.get_text() for t in ax.texts] == ["best loss 0.24\nat step 40"]
  assert ax.get_yscale() == "linear"


def test_a_loss_over_decades_gets_a_log_axis():
  history = _history([0.5] * 4, [2.0, 0.2, 0.002, 0.0002])
  [ax] = plots.learning_curve_figure(history, "loss", best_step=40).axes
  assert ax.get_yscale() == "log"
  assert ax.get_ylabel() == "loss (log scale)"


def test_no_best_step_draws_no_mark():
  fig = plots.learning_curve_figure(HISTORY, "auc")
  assert all(not _vertical_lines(ax) and not ax.texts for ax in fig.axes)


def test_grid_summary_scales_to_the_scores():
  fig = plots.grid_summary_figure(TRIALS, "auc", mode="max")
  [ax] = fig.axes
  low, high = ax.get_xlim()
  # 0.967 .. 0.985 spans the axis (bars from 0 made them look equal).
  assert 0.96 < low < 0.967 and 0.985 < high < 0.99
  assert (0.985 - 0.967) / (high - low) > 0.8
  assert "axis not from 0" in ax.get_xlabel()


def test_grid_summary_puts_the_best_first_and_labels_every_trial():
  fig = plots.grid_summary_figure(TRIALS, "auc", mode="max")
  [ax] = fig.axes
  ticks = sorted(zip(ax.get_yticks(), ax.get_yticklabels()),
                 key=lambda t: -t[0])
  assert [label.get_text() for _, label in ticks] == [
      "trial_1: learning_rate=0.01", "trial_2: learning_rate=0.001",
      "trial_0: learning_rate=0.1"]
  assert [t.get_text() for t in ax.texts] == ["0.985", "0.971", "0.967"]
  assert ax.get_title() == ("3 trials, best first: trial_1 with auc 0.985\n"
                            "in every trial: hidden_units=[64, 32]")
  # lower is better: the order turns round.
  [ax] = plots.grid_summary_figure(TRIALS, "loss", mode="min").axes
  assert ax.texts[0].get_text() == "0.967"


def test_grid_summary_labels_are_not_clipped():
  trials = [dict(t, params=dict(t["params"], optimizer="Adagrad" * i))
            for i, t in enumerate(TRIALS)]
  fig = plots.grid_summary_figure(trials, "auc", mode="max")
  fig.canvas.draw()
  [ax] = fig.axes
  assert all(_inside_figure(fig, label) for label in ax.get_yticklabels())
  assert _inside_figure(fig, ax.xaxis.label) and _inside_figure(fig, ax.title)
  assert all(_inside_figure(fig, t) for t in ax.texts)


def test_pngs_are_written_without_switching_the_backend(tmp_path):
  before = matplotlib.get_backend()
  matplotlib.use("svg")  # what a notebook or a GUI session would have set
  try:
    assert plots.grid_summary(str(tmp_path), TRIALS, "auc", mode="max") == (
        str(tmp_path / "grid_summary.png"))
    assert plots.learning_curve(str(tmp_path), HISTORY, "auc",
                                best_step=20) == str(
                                    tmp_path / "learning_curve.png")
    assert matplotlib.get_backend() == "svg"
  finally:
    matplotlib.use(before)
  for name in ("grid_summary.png", "learning_curve.png"):
    assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("draw", [
    lambda d: plots.learning_curve(d, [], "auc"),
    lambda d: plots.grid_summary(d, [], "auc"),
])
def test_nothing_to_draw_writes_nothing(tmp_path, draw):
  assert draw(str(tmp_path)) is None
  assert not list(tmp_path.iterdir())
