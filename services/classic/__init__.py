"""The classic (scikit-learn) churn classifier, served by BentoML with adaptive batching.

Run it with ``bentoml serve services.classic.service:ClassicService`` from the repository
root; the request and response shapes are documented in ``services/classic/io_descriptors.py``.
"""
