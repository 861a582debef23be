"""The iteration driver: train/evaluate loops, early stopping, grid search.

Available so far: `EarlyStopping` (the patience state machine). The loop,
resume and grid search build on it.
"""
from estweight.driver.early_stopping import EarlyStopping
