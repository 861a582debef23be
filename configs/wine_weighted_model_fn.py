"""A custom model_fn from the weighted factory on a 3-class problem.

Scikit-learn's wine set (178 wines, 13 chemical measurements, 3 cultivars
of 59/71/48 wines; ships inside scikit-learn). The model_fn comes from
`estweight.weights.make_weighted_model_fn` with the named 'mlp' network,
sparse softmax cross entropy with balanced class weights, and weighted
accuracy, per-class recall and average loss as metrics.

    estweight train --config=configs/wine_weighted_model_fn.py \
        --model_dir=runs/wine

Needs scikit-learn for the data: pip install "estweight[examples]".
"""


def get_config():
  return {
      "data": {
          "train": "sklearn:wine",
          "eval_fraction": 0.3,
          "class_weight": "balanced",
          "batch_size": 16,
      },
      "model": {
          "name": "weighted_model_fn",
          "network": "mlp",
          "hidden_units": [16],
          "loss": "sparse_softmax_cross_entropy",
          "optimizer": "Adam",
          "learning_rate": 0.01,
          "metrics": ["accuracy", "per_class_recall", "average_loss"],
      },
      "run": {"tf_random_seed": 3},
      "driver": {
          "steps_per_iteration": 100,
          "max_steps": 1000,
          "early_stopping": {"metric": "loss", "mode": "min", "patience": 3},
      },
  }
