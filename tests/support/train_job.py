"""A training job for kill/resume tests: `python train_job.py MODEL_DIR MAX_STEPS`.

Estimator.train(max_steps=MAX_STEPS) of the scalar model on a repeated
3-point input, checkpoints every 20 steps. Prints `START <global step>`
when its session starts and `DONE <step>` at the end. A test kills it at a
named point with ESTWEIGHT_KILL_AFTER (estweight/runtime/faults.py).
"""
import sys

import tensorflow as tf

import estweight
from support import models  # pylint: disable=g-import-not-at-top


class Announce(estweight.SessionRunHook):

  def after_create_session(self, session, coord):
    step = session.run(tf.compat.v1.train.get_global_step())
    print(f"START {step}", flush=True)


def main(model_dir, max_steps):
  est = models.make_estimator(model_dir, save_checkpoints_steps=20,
                              tf_random_seed=1)
  est.train(models.xy_input_fn([1.0, 2.0, 3.0], [2.0, 4.0, 6.0],
                               repeat=True),
            max_steps=max_steps, hooks=[Announce()])
  print(f"DONE {est.get_variable_value('global_step')}", flush=True)


if __name__ == "__main__":
  main(sys.argv[1], int(sys.argv[2]))
