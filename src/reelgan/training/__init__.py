"""Training: the loop, checkpoints, EMA and run folders."""

from ..gan.checkpoint import load_checkpoint, save_checkpoint
from .loop import Trainer, TrainResult, train
from .rundir import create_run_dir, resolve_run_dir

__all__ = ["Trainer", "TrainResult", "train", "load_checkpoint", "save_checkpoint", "create_run_dir",
           "resolve_run_dir"]
