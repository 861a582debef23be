"""Class weights: `{class: weight}` or 'balanced', resolved to a vector.

'balanced' gives class c the weight n / (n_classes * count_c), computed from
the training input by one pass when training starts, then cached in
`model_dir/class_weights.json` so a resumed or re-evaluated model uses the
same weights. Class weights multiply example weights (weight_column or the
third input element): class x importance.

Class weights weigh the training loss (and the `loss`/`average_loss` an
evaluation reports, the same objective). The other evaluation metrics are
weighted by the example weights only, so they describe the evaluation data
as it is; `ClassWeight(..., class_weighted_eval_metrics=True)` weighs them
by the class weights too.
"""
from __future__ import annotations

import numbers
import os
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np
from estweight import _logging as logging

from estweight.runtime import files

if TYPE_CHECKING:
  from estweight.runtime.preparation import BuildContext

CACHE_FILE = "class_weights.json"

_BALANCED = "class_weight='balanced'"
_NO_PASS_FIX = (
    "pass counts you know: class_weight=estweight.weights."
    "balanced_class_weight(counts), e.g. with counts=estweight.weights."
    "count_classes(one_epoch_input_fn), or counted over a bounded sample: "
    "count_classes(input_fn, max_examples=100000).")


def count_classes(input_fn: Callable[..., Any],
                  n_classes: int | None = None,
                  label_vocabulary: Sequence[str] | None = None,
                  *,
                  max_examples: int | None = None) -> np.ndarray:
  """Examples per class in one pass over the data of `input_fn`.

  Args:
    input_fn: an input_fn returning a Dataset of `(features, labels)`
      batches (or tensors). One that repeats (`repeat()` anywhere in its
      pipeline) is counted over one pass, its repeats run once; one that
      never ends otherwise is refused at once.
    n_classes: number of classes; None: one more than the largest id seen.
    label_vocabulary: class names when labels are strings.
    max_examples: None: the whole pass. A number: only the first
      `max_examples` examples, a bounded sample (the log states the count).

  Returns:
    int64 array [n_classes] of counts.
  """
  return _count(input_fn,
                n_classes,
                label_vocabulary,
                purpose="count_classes",
                max_examples=max_examples)


def _count(input_fn,
           n_classes,
           label_vocabulary,
           *,
           purpose,
           params=None,
           config=None,
           max_examples=None):
  """Counts classes over one pass of `input_fn` or its first examples."""
  from estweight.runtime import passes  # pylint: disable=g-import-not-at-top
  from estweight.runtime import preparation  # pylint: disable=g-import-not-at-top
  if max_examples is None:
    source = preparation.one_pass(input_fn, purpose=purpose, fix=_NO_PASS_FIX)
  elif isinstance(max_examples, bool) or not isinstance(
      max_examples, numbers.Integral) or max_examples <= 0:
    raise ValueError("`max_examples` must be a positive integer or None. "
                     f"Received: max_examples={max_examples!r}.")
  else:
    source = preparation.first_examples(input_fn, int(max_examples))
  counts = passes.count_labels(source,
                               n_classes=n_classes,
                               label_vocabulary=label_vocabulary,
                               params=params,
                               config=config)
  if max_examples is None:
    logging.info(
        "%s: counted %d examples in one pass of the input: %s per "
        "class.", purpose, counts.sum(), counts.tolist())
  else:
    logging.info(
        "%s: counted a sample of the first %d examples of the input "
        "(max_examples=%d): %s per class.", purpose, counts.sum(), max_examples,
        counts.tolist())
  return counts


def balanced_class_weight(
    counts: Sequence[int] | np.ndarray) -> dict[int, float]:
  """`{class_id: n / (n_classes * count)}` from per-class example counts.

  Args:
    counts: the number of examples of each class, indexed by class id (at
      least 2 classes, none of them empty).

  Returns:
    A dict from class id to its weight; `n` is the total count.

  Raises:
    ValueError: if `counts` is not a flat list of at least 2 non-negative
      counts, or a class has no examples.
  """
  counts = np.asarray(counts, np.float64)
  if counts.ndim != 1 or len(counts) < 2 or np.any(counts < 0):
    raise ValueError(
        "`counts` must be a list of non-negative counts, one per"
        f" class (at least 2). Received: counts={counts.tolist()}.")
  empty = np.flatnonzero(counts == 0).tolist()
  if empty:
    raise ValueError(f"Classes {empty} have no examples, so 'balanced' class "
                     f"weights are undefined. Received: counts="
                     f"{counts.astype(int).tolist()}.")
  weights = counts.sum() / (len(counts) * counts)
  return {i: float(w) for i, w in enumerate(weights)}


def _check_weight(key, value):
  if isinstance(value, bool) or not isinstance(
      value, numbers.Real) or not (np.isfinite(value) and value >= 0):
    raise ValueError(f"Class weights must be finite numbers >= 0. Received: "
                     f"class_weight[{key!r}]={value!r}.")
  return float(value)


class ClassWeight:
  """A validated `class_weight` argument; `vector` once resolved.

  Pass one as `class_weight=` (to a canned classifier, a head or
  `make_weighted_model_fn`) to choose how evaluation is weighted:

      estweight.DNNClassifier(..., class_weight=estweight.weights.ClassWeight(
          'balanced', class_weighted_eval_metrics=True))

  Args:
    class_weight: None, 'balanced', a dict keyed by class id (int) or, with a
      label_vocabulary, by class name (classes left out weigh 1), or another
      `ClassWeight` (its weights and option are taken over).
    n_classes: number of classes; None until a model binds it (a head or
      the factory passes its own).
    label_vocabulary: class names, if labels are strings.
    class_weighted_eval_metrics: False (the default): evaluation metrics
      other than the losses are weighted by example weights only, and
      `recall/class_<k>` and `balanced_accuracy` are added. True: the
      metrics tf.estimator 2.15 reports with class x example weights as its
      weight_column (same keys; accuracy is then class-balanced, `label/mean`
      the class-weighted share of positives).
  """

  def __init__(self,
               class_weight: ClassWeight | str | Mapping[int, float] |
               Mapping[str, float] | None,
               n_classes: int | None = None,
               label_vocabulary: Sequence[str] | None = None,
               *,
               class_weighted_eval_metrics: bool | None = None):
    if isinstance(class_weight, ClassWeight):
      if class_weighted_eval_metrics is None:
        class_weighted_eval_metrics = class_weight.class_weighted_eval_metrics
      class_weight = class_weight.spec
    if class_weighted_eval_metrics is None:
      class_weighted_eval_metrics = False
    if not isinstance(class_weighted_eval_metrics, bool):
      raise ValueError("`class_weighted_eval_metrics` must be True or False. "
                       "Received: class_weighted_eval_metrics="
                       f"{class_weighted_eval_metrics!r}.")
    if class_weight is None and class_weighted_eval_metrics:
      raise ValueError("`class_weighted_eval_metrics=True` needs class "
                       "weights. Received: class_weight=None.")
    self.spec = class_weight
    self.class_weighted_eval_metrics = class_weighted_eval_metrics
    self.balanced = class_weight == "balanced"
    self.n_classes = n_classes
    self.label_vocabulary = (tuple(label_vocabulary)
                             if label_vocabulary else None)
    self.vector: np.ndarray | None = None
    if class_weight is None or self.balanced:
      return
    if not isinstance(class_weight, dict):
      raise ValueError("`class_weight` must be None, 'balanced' or a dict "
                       "{class: weight}. Received: class_weight="
                       f"{class_weight!r}.")
    values = {
        key: _check_weight(key, value) for key, value in class_weight.items()
    }
    if n_classes is None:
      return  # the keys are checked once a model binds n_classes
    vector = np.ones(n_classes, np.float32)
    for key, value in values.items():
      vector[self._index(key, class_weight)] = value
    self.vector = vector

  def _index(self, key, class_weight):
    if isinstance(key, str):
      if not self.label_vocabulary or key not in self.label_vocabulary:
        raise ValueError(
            f"class_weight key {key!r} is not a class name; names exist only "
            f"with label_vocabulary (here {self.label_vocabulary}). "
            f"Received: class_weight={class_weight!r}.")
      return self.label_vocabulary.index(key)
    if isinstance(key, bool) or not isinstance(
        key, numbers.Integral) or not (0 <= key < self.n_classes):
      raise ValueError(f"class_weight key {key!r} is not a class id in "
                       f"[0, {self.n_classes}). Received: class_weight="
                       f"{class_weight!r}.")
    return int(key)

  @property
  def active(self) -> bool:
    """Whether a class_weight was given (None: every class weighs 1)."""
    return self.spec is not None

  # ------------------------------------------------------- 'balanced' only
  def resolve(self, context: BuildContext) -> None:
    """Resolves 'balanced' for the graph being built (`context`, a
    runtime.preparation.BuildContext): from model_dir's cache, else, when
    training, by one pass over the training input (then cached).

    Does nothing unless the class weight is 'balanced' and not resolved yet.

    Args:
      context: the build context; gives model_dir, the training input_fn
        (None when not training), params and config.

    Raises:
      ValueError: if model_dir has no cached weights and there is no
        training input to count.
    """
    if not self.balanced or self.vector is not None:
      return
    if self._load(context.model_dir):
      return
    if context.train_input_fn is None:
      raise ValueError(
          "class_weight='balanced' is computed from the training input when "
          f"training starts, and {context.model_dir} has no {CACHE_FILE} yet."
          " To fix, train first, or pass class_weight=estweight.weights."
          "balanced_class_weight(counts).")
    counts = _count(context.train_input_fn,
                    self.n_classes,
                    self.label_vocabulary,
                    purpose=_BALANCED,
                    params=context.params,
                    config=context.config)
    weights = balanced_class_weight(counts)
    # n_classes is bound before 'balanced' is resolved (require_vector).
    self.vector = np.array(
        [weights[i] for i in range(self.n_classes)],  # type: ignore[arg-type]
        np.float32)
    logging.info("class_weight='balanced' from counts %s: %s", counts.tolist(),
                 np.round(self.vector, 4).tolist())
    files.write_json(os.path.join(context.model_dir, CACHE_FILE), {
        "class_weight": self.vector.tolist(),
        "counts": counts.tolist()
    })

  def _load(self, model_dir):
    path = os.path.join(model_dir, CACHE_FILE)
    cached = files.read_json(path, expect=dict)
    if cached is None:
      return False
    if "class_weight" not in cached:
      raise files.StateFileError(f"The state file {path} has no "
                                 "'class_weight'; delete it to count again.")
    vector = np.asarray(cached["class_weight"], np.float32)
    if vector.shape != (self.n_classes,):
      raise ValueError(f"{path} holds {vector.shape[0]} class weights, but "
                       f"the model has n_classes={self.n_classes}.")
    self.vector = vector
    return True

  def require_vector(self) -> np.ndarray:
    """The weight vector; 'balanced' is resolved for the graph being built."""
    if self.n_classes is None:
      raise ValueError("This ClassWeight has no n_classes yet; pass it as "
                       "`class_weight=` to a classifier, a head or "
                       "make_weighted_model_fn, which bind their own.")
    if self.balanced and self.vector is None:
      from estweight.runtime import preparation  # pylint: disable=g-import-not-at-top
      context = preparation.current()
      if context is None:
        raise ValueError(
            "class_weight='balanced' is resolved when an Estimator builds its "
            "graph (from the training input, or model_dir's cache); this "
            "model is being built outside an Estimator. To fix, pass "
            "class_weight=estweight.weights.balanced_class_weight(counts).")
      self.resolve(context)
    return self.vector  # type: ignore[return-value]  # set by resolve()
