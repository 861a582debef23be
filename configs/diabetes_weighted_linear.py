"""A weighted LinearRegressor on real data: scikit-learn's diabetes set.

442 patients, ten baseline measurements, target = disease progression one
year later (ships inside scikit-learn, no download). Each example is
weighted so that both sexes count equally in the loss and the metrics
(`data.balance_weights_by`: weight = n / (groups * group size)).

    estweight train --config=configs/diabetes_weighted_linear.py \
        --model_dir=runs/diabetes

Needs scikit-learn for the data: pip install "estweight[examples]".
"""


def get_config():
  return {
      "data": {
          "train": "sklearn:diabetes",
          "label": "target",
          "balance_weights_by": "sex",
          "batch_size": 32,
      },
      "model": {
          "name": "LinearRegressor",
          "optimizer": "Adam",
          "learning_rate": 0.5,
      },
      "run": {"tf_random_seed": 2},
      "driver": {
          "steps_per_iteration": 200,
          "max_steps": 2000,
          "early_stopping": {"metric": "average_loss", "mode": "min",
                             "patience": 3},
      },
  }
