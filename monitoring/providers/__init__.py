"""Small provider interfaces, chosen by name from a registry (as Flagger does)."""
