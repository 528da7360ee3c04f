"""Benchmarks: each ``bench/bench_<name>.py`` has a ``main()`` that writes
``bench/results/<name>.json``; ``python -m bench [name ...]`` runs them."""
