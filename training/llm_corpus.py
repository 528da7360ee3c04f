"""A support-desk corpus for the tiny language model, written by the project itself.

Nothing is downloaded: every dialogue is filled in from templates about the churn product
(billing, contracts, cancellations, data plans, roaming, payments, devices, outages) with
one ``random.Random`` seeded by ``seed``, so the same seed always gives the same text.
Each dialogue is one customer question and one agent answer in the format the LLM
service's chat template produces (``Customer: ...`` / ``Agent: ...``), so the served model
answers in the role it was trained on.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass

from canaria.contracts.chat import AGENT_PREFIX, CUSTOMER_PREFIX

DEFAULT_DIALOGUES = 2400
DEFAULT_HELD_OUT_SHARE = 0.1
_MAX_DRAWS_PER_DIALOGUE = 20

_PLANS = ("Basic 5", "Smart 20", "Family 50", "Unlimited Plus", "Travel 30")
_PLAN_DATA = {
    "Basic 5": "5 GB",
    "Smart 20": "20 GB",
    "Family 50": "50 GB",
    "Unlimited Plus": "unlimited data",
    "Travel 30": "30 GB",
}
_CONTRACTS = ("month-to-month", "one-year", "two-year")
_PAYMENT_METHODS = ("electronic check", "mailed check", "bank transfer", "credit card")
_COUNTRIES = ("France", "Spain", "Italy", "Germany", "Portugal", "Canada", "Japan", "Mexico")
_DEVICES = ("phone", "tablet", "router", "smartwatch", "SIM card")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August")
_REGIONS = ("north", "south", "east", "west")
_FEES = ("5", "9", "12", "15", "20", "25", "30")
_AMOUNTS = ("19", "29", "35", "45", "55", "70", "89", "99")

# (topic, customer question templates, agent answer templates). Slots in braces are filled
# from the tuples above; every answer mentions something from the question so the model
# has a reason to read the prompt.
_TOPICS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "billing",
        (
            "Why is my bill {amount} dollars this month?",
            "My {month} bill looks higher than usual. Can you explain it?",
            "I was charged {amount} dollars but my plan is {plan}. Why?",
            "How do I read the charges on my {month} invoice?",
        ),
        (
            "Your {month} bill includes the {plan} plan plus a one-time fee of {fee} dollars. "
            "The fee will not appear again next month.",
            "I checked your account: the {plan} plan costs {amount} dollars and the extra "
            "{fee} dollars come from data used above your allowance.",
            "The invoice lists your plan first, then usage, then taxes. On your {month} bill "
            "the usage part is {fee} dollars.",
        ),
    ),
    (
        "contracts",
        (
            "What happens when my {contract} contract ends?",
            "Can I switch from a {contract} contract to a {contract2} contract?",
            "How long is left on my {contract} contract?",
            "Is a {contract2} contract cheaper than {contract}?",
        ),
        (
            "When a {contract} contract ends it continues month to month at the same price. "
            "You can move to a {contract2} contract at any time without a fee.",
            "Yes, you can switch to a {contract2} contract today. Longer contracts lower the "
            "monthly price of the {plan} plan by {fee} dollars.",
            "Your {contract} contract runs until {month}. After that you are free to change "
            "plans or stay on {plan}.",
        ),
    ),
    (
        "cancellation",
        (
            "How do I cancel my {plan} plan?",
            "I want to cancel my service. Is there a fee on a {contract} contract?",
            "What do I need to cancel before {month}?",
            "If I cancel today, when does my service stop?",
        ),
        (
            "I am sorry to see you go. On a {contract} contract there is no cancellation fee "
            "and your service stops at the end of the billing period.",
            "You can cancel the {plan} plan in the app under Account, Plan, Cancel. Leaving a "
            "{contract} contract early costs {fee} dollars per remaining month.",
            "Before you cancel, I can offer the {plan2} plan for {amount} dollars a month. If "
            "you still want to leave, your service stops on the last day of {month}.",
        ),
    ),
    (
        "data plans",
        (
            "How much data do I have on the {plan} plan?",
            "I ran out of data. Can I add more to my {plan} plan?",
            "Which plan is best if I use a lot of data?",
            "Can I move from {plan} to {plan2}?",
        ),
        (
            "The {plan} plan includes {data} each month. Unused data does not roll over.",
            "Yes, you can add a data pack for {fee} dollars, or move to the {plan2} plan which "
            "includes {data2}.",
            "For heavy use I recommend the {plan2} plan with {data2}. The change takes effect "
            "right away and the price is {amount} dollars a month.",
        ),
    ),
    (
        "roaming",
        (
            "Will my phone work in {country}?",
            "How much does roaming in {country} cost on the {plan} plan?",
            "I am travelling to {country} in {month}. What should I do?",
        ),
        (
            "Yes, your {plan} plan works in {country}. Roaming costs {fee} dollars per day and "
            "uses your normal data allowance.",
            "Before you travel to {country}, turn on roaming in the app. The Travel 30 plan "
            "includes {country} at no extra cost.",
        ),
    ),
    (
        "payments",
        (
            "Can I pay by {payment} instead of {payment2}?",
            "My {payment} payment failed. What now?",
            "How do I set up automatic payments?",
            "When is my payment due in {month}?",
        ),
        (
            "Yes, you can switch to {payment} in the app under Billing, Payment method. The "
            "change applies to your {month} bill.",
            "A failed {payment} payment is retried after three days. To avoid a late fee of "
            "{fee} dollars, you can pay now by {payment2}.",
            "Automatic payments by {payment} are taken on the first of each month. Paperless "
            "billing saves {fee} dollars a year.",
        ),
    ),
    (
        "devices",
        (
            "My {device} is not working. Can you help?",
            "How do I activate a new {device}?",
            "Can I add a {device} to my {plan} plan?",
        ),
        (
            "Please restart the {device} and check that it shows our network. If it still "
            "fails, I can send a replacement at no cost.",
            "To activate the {device}, insert the SIM and follow the steps in the app. Adding "
            "it to the {plan} plan costs {fee} dollars a month.",
        ),
    ),
    (
        "outages",
        (
            "Is there an outage in the {region} region?",
            "My internet has been down since this morning. Is something wrong?",
            "Why is my connection slow in the {region}?",
        ),
        (
            "There is planned maintenance in the {region} region until this evening. Your "
            "service should return by then, and the downtime will be credited to your bill.",
            "I see no outage in the {region} region. Please restart your {device}; if the "
            "problem stays, I will open a ticket for a technician.",
        ),
    ),
)

_OPENINGS = ("", "Hello. ", "Hi, ", "Good morning. ", "Quick question: ")
_CLOSINGS = ("", " Is there anything else I can help with?", " Thank you for being with us.")


@dataclass(frozen=True)
class Corpus:
    """The generated dialogues, split into training and held-out text."""

    train: tuple[str, ...]
    held_out: tuple[str, ...]

    @property
    def fingerprint(self) -> str:
        """A stable hash of the whole corpus, stored in the model metadata."""
        digest = hashlib.sha256()
        for part in (*self.train, "\x00", *self.held_out):
            digest.update(part.encode("utf-8"))
            digest.update(b"\n")
        return digest.hexdigest()


def _fill(template: str, rng: random.Random) -> dict[str, str]:
    """Draw one value per slot family; the ``2`` slots differ from their first value."""
    plan, plan2 = rng.sample(_PLANS, 2)
    contract, contract2 = rng.sample(_CONTRACTS, 2)
    payment, payment2 = rng.sample(_PAYMENT_METHODS, 2)
    return {
        "plan": plan,
        "plan2": plan2,
        "data": _PLAN_DATA[plan],
        "data2": _PLAN_DATA[plan2],
        "contract": contract,
        "contract2": contract2,
        "payment": payment,
        "payment2": payment2,
        "country": rng.choice(_COUNTRIES),
        "device": rng.choice(_DEVICES),
        "month": rng.choice(_MONTHS),
        "region": rng.choice(_REGIONS),
        "fee": rng.choice(_FEES),
        "amount": rng.choice(_AMOUNTS),
    }


def dialogue(rng: random.Random) -> str:
    """One customer question and agent answer, drawn from ``rng``."""
    _topic, questions, answers = rng.choice(_TOPICS)
    question, answer = rng.choice(questions), rng.choice(answers)
    slots = _fill(question + answer, rng)
    opening, closing = rng.choice(_OPENINGS), rng.choice(_CLOSINGS)
    return (
        f"{CUSTOMER_PREFIX} {opening}{question.format(**slots)}\n"
        f"{AGENT_PREFIX} {answer.format(**slots)}{closing}"
    )


def split(dialogues: Sequence[str], *, held_out_share: float = DEFAULT_HELD_OUT_SHARE) -> Corpus:
    """Every k-th dialogue goes to the held-out set (pure; k from ``held_out_share``)."""
    if not 0.0 < held_out_share < 1.0:
        raise ValueError(f"held_out_share must be in (0, 1), got {held_out_share}")
    every = max(2, round(1.0 / held_out_share))
    train = tuple(text for index, text in enumerate(dialogues) if index % every != 0)
    held_out = tuple(text for index, text in enumerate(dialogues) if index % every == 0)
    return Corpus(train=train, held_out=held_out)


def build_corpus(
    *,
    seed: int = 0,
    n_dialogues: int = DEFAULT_DIALOGUES,
    held_out_share: float = DEFAULT_HELD_OUT_SHARE,
) -> Corpus:
    """Generate ``n_dialogues`` distinct dialogues from ``seed`` and split them.

    Deterministic. Duplicates are dropped so that no held-out dialogue also appears in
    the training text, which would flatter the held-out perplexity.
    """
    if n_dialogues < 2:
        raise ValueError(f"n_dialogues must be at least 2, got {n_dialogues}")
    rng = random.Random(seed)  # nosec B311 # seeded synthetic corpus, not security
    dialogues: dict[str, None] = {}  # insertion-ordered set
    for _ in range(n_dialogues * _MAX_DRAWS_PER_DIALOGUE):
        dialogues.setdefault(dialogue(rng))
        if len(dialogues) == n_dialogues:
            break
    else:
        raise ValueError(f"the templates cannot make {n_dialogues} distinct dialogues")
    return split(list(dialogues), held_out_share=held_out_share)
