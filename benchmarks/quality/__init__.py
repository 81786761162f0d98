"""Quality benchmark: training systems side by side on the same data for the same wall time, scored by
FID/KID/precision/recall in a per-dataset domain feature space (see README.md beside this file)."""
