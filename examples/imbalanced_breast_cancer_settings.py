"""Imbalanced real data: Wisconsin breast cancer with malignant cases ~5%.

The data ships inside scikit-learn (no download). Training keeps every
benign case but only 1 malignant in 20 (~5% positives); the held-out set has
57 cases of each class, so minority recall is measured on enough positives.
Run: `python examples/imbalanced_breast_cancer.py`.
"""


def get_config():
  return {
      "data": {"dataset": "sklearn.breast_cancer", "positive": "malignant",
               "train_positive_fraction": 0.05, "test_per_class": 57,
               "seed": 0},
      "model": {"hidden_units": [16], "optimizer": "Adam",
                "learning_rate": 0.003},
      "train": {"batch_size": 32, "steps": 300, "tf_random_seed": 1},
      # The three trainings compared on minority recall and AUC.
      "variants": {
          "unweighted": {"loss": "sigmoid_cross_entropy"},
          "class_weighted": {"loss": "sigmoid_cross_entropy",
                             "class_weight": "balanced"},
          "focal": {"loss": "focal",
                    "loss_options": {"gamma": 2.0, "alpha": 0.75}},
      },
  }
