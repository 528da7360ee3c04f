"""canaria: Kubernetes-native serving for classic and LLM models with safe rollouts."""

__version__ = "0.1.0"
