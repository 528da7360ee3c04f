"""The LLM service: a tiny transformers model behind an OpenAI-compatible API (BentoML)."""
