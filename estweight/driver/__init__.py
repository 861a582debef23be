"""The iteration driver: train/evaluate loops with early stopping and resume.

    result = estweight.driver.run_iterations(
        est, train_input_fn, eval_input_fn, steps_per_iteration=100,
        max_steps=2000, early_stopping=estweight.driver.EarlyStopping(
            metric="loss", mode="min", patience=3))
"""
from estweight.driver.early_stopping import EarlyStopping
from estweight.driver.loop import IterationResult
from estweight.driver.loop import run_iterations
from estweight.driver.grid import GridResult
from estweight.driver.grid import grid_search

__all__ = [
    "EarlyStopping",
    "GridResult",
    "IterationResult",
    "grid_search",
    "run_iterations",
]
