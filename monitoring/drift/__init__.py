"""Drift analysis: the current inputs and predictions of a model against its reference.

Pure parts: ``config`` (tests per column type), ``tables`` (reading CSV/Parquet/sample
logs), ``quality`` (column plan, data quality against the feature schema), ``summary``
(verdicts and JSON). Evidently runs only in ``engine`` (and ``stattests``, which registers
a two-sample chi-square test with it). ``reference`` reads a saved model's sample.
"""
