"""The dialogue format the tiny LLM is trained on and served with (one source).

Training (``training/llm_corpus.py``) writes dialogues as ``Customer: ...`` / ``Agent: ...``
lines; the trained tokenizer carries ``CHAT_TEMPLATE``, and the LLM service falls back to it
for a model that has none.
"""

from __future__ import annotations

# Role prefixes shared by the corpus and the tokenizer's chat template.
CUSTOMER_PREFIX = "Customer:"
AGENT_PREFIX = "Agent:"
SYSTEM_PREFIX = "System:"

# A Jinja chat template that renders OpenAI-style messages in this dialogue format. The
# generation prompt ends with the agent prefix so the model answers as the agent.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] in ('system', 'developer') %}" + SYSTEM_PREFIX + " "
    "{% elif message['role'] == 'assistant' %}" + AGENT_PREFIX + " "
    "{% else %}" + CUSTOMER_PREFIX + " "
    "{% endif %}{{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}" + AGENT_PREFIX + "{% endif %}"
)
