"""BentoML services: the classic model, the LLM and the router."""
