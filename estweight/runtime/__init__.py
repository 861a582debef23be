"""The v1 graph/session machinery of estweight.

This package is the only place that builds tf.compat.v1 graphs and runs
sessions: graph building per mode (`graph`), the train, evaluate and predict
loops, checkpoints and warm starting, and the hooks the runtime adds itself.
"""
