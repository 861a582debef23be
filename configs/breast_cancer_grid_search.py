"""Grid search: learning rate x batch size for the weighted DNNClassifier.

The flagship's data and model (configs/breast_cancer_weighted_dnn.py) with a
shorter schedule; every grid point is a resumable trial in
<model_dir>/trial_<i>/, ranked by evaluation AUC.

    estweight search --config=configs/breast_cancer_grid_search.py \
        --model_dir=runs/breast_cancer_search

Needs scikit-learn for the data: pip install "estweight[examples]".
"""
import os
import importlib.util


def _flagship():
  path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "breast_cancer_weighted_dnn.py")
  spec = importlib.util.spec_from_file_location("flagship", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


def get_config():
  config = _flagship()
  config["driver"] = {"steps_per_iteration": 100, "max_steps": 300}
  config["search"] = {
      "grid": {"model.learning_rate": [0.001, 0.01],
               "data.batch_size": [16, 64]},
      "metric": "auc",
      "mode": "max",
  }
  return config
