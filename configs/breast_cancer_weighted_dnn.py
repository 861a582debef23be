"""Flagship: a class-weighted DNNClassifier on imbalanced real data.

Scikit-learn's Wisconsin breast-cancer set (ships inside the installed
package, no download), label 1 = malignant. Training keeps one malignant
case in ten (about 6% positives); the held-out split is untouched. Balanced
class weights (counted once, cached in model_dir/class_weights.json) make
the few malignant cases count as much as the benign ones; early stopping
watches the evaluation AUC.

    estweight train --config=configs/breast_cancer_weighted_dnn.py \
        --model_dir=runs/breast_cancer

Needs scikit-learn for the data: pip install "estweight[examples]".
"""


def get_config():
  return {
      "data": {
          "train": "sklearn:breast_cancer",
          "eval_fraction": 0.3,
          "minority_keep_fraction": 0.1,
          "class_weight": "balanced",
          "batch_size": 32,
      },
      "model": {
          "name": "DNNClassifier",
          "hidden_units": [16, 8],
          "optimizer": "Adam",
          "learning_rate": 0.003,
      },
      "run": {"tf_random_seed": 1},
      "driver": {
          "steps_per_iteration": 100,
          "max_steps": 1500,
          "early_stopping": {"metric": "auc", "mode": "max", "patience": 4},
      },
  }
