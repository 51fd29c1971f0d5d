"""Guardian training pipeline (see docs/PREPROCESSING.md and issue 2)."""
