"""The rollout operator: ModelRollout reconciler, pure analysis engine and providers."""
