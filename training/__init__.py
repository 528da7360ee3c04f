"""Data sets, training, evaluation and the model metadata contract."""
