"""Exploring a trained generator: latent directions, variations, a preference model and the lineage record.

The CLI (`reelgan explore`) and the studio are both clients of `Explorer` (session.py); the parts work alone:
directions.py (SeFa and PCA), variations.py (children, crossover, truncation), preference.py (what to show
next), lineage.py (what was shown, exactly reproducible).
"""

from .directions import Directions, find_directions, move, pca_directions, sefa_directions
from .lineage import Entry, Lineage, default_lineage_path, regenerate
from .preference import PreferenceModel, propose
from .session import Explorer
from .variations import children, crossover, truncate

__all__ = ["Directions", "Entry", "Explorer", "Lineage", "PreferenceModel", "children", "crossover",
           "default_lineage_path", "find_directions", "move", "pca_directions", "propose", "regenerate",
           "sefa_directions", "truncate"]
