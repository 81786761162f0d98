"""Synthetic datasets from a trained generator: export them (labelled, resumable, each image disclosed as
AI-made, near copies of training images optionally dropped) and score how useful they are for training.

`export_synthetic` (export.py) writes a set in one of three layouts (layouts.py) with labels.csv and a dataset
card (card.py); `score_synthetic` (score.py) trains small classifiers (classifier.py) on synthetic and real
images: CAS / GAN-train, GAN-test, augmentation gain and the real yardstick.
"""

from .classifier import ClassifierSettings, SmallResNet, train_classifier
from .copies import CopyCriterion, copy_criterion
from .export import export_synthetic
from .plan import LAYOUTS, ExportSettings, make_plan, sample_seed
from .score import markdown_table, score_synthetic

__all__ = ["LAYOUTS", "ClassifierSettings", "CopyCriterion", "ExportSettings", "SmallResNet", "copy_criterion",
           "export_synthetic", "make_plan", "markdown_table", "sample_seed", "score_synthetic", "train_classifier"]
