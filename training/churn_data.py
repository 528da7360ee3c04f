"""Synthetic telecom customers with a churn label, drifted by a named ``DriftScenario``.

The generator stands in for a real customer table: correlated features (charges grow with
the number of products, total charges with tenure), a label that depends on them through
interactions and nonlinear terms (price hurts only month-to-month customers, risk decays
with tenure, support calls matter past a threshold, age is U-shaped) and irreducible noise.

Every random draw is taken up front, in a fixed order, from one ``numpy.random.Generator``
seeded by ``seed``; scenarios only transform those draws. So the same seed gives the same
customers under every scenario, and a larger ``strength`` moves every row at least as far
as a smaller one did: the effect of a scenario is monotone in its strength.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from canaria.contracts.model_metadata import Feature, FeatureSchema, FeatureType
from training.drift_scenarios import DriftScenario

TARGET_COLUMN = "churned"
POSITIVE_CLASS = "churn"
NEGATIVE_CLASS = "stay"
# In the order of the classifier's predict_proba columns (scikit-learn sorts classes).
CLASSES = (POSITIVE_CLASS, NEGATIVE_CLASS)

ID_COLUMN = "customer_id"
# Identifies a person: carried in requests, never a model feature, never logged or stored.
PERSONAL_DATA_FIELDS = (ID_COLUMN,)

CONTRACT_TYPES = ("month-to-month", "one-year", "two-year")
PAYMENT_METHODS = ("electronic-check", "mailed-check", "bank-transfer", "credit-card")
REGIONS = ("north", "south", "east", "west")
YES_NO = ("yes", "no")

FEATURE_SCHEMA = FeatureSchema(
    features=(
        Feature("tenure_months", FeatureType.INTEGER, "months as a customer", 0, 72),
        Feature("monthly_charges", FeatureType.NUMBER, "current monthly bill", 18.0, 120.0),
        Feature("total_charges", FeatureType.NUMBER, "billed over the tenure", 0.0, 9000.0),
        Feature(
            "contract_type", FeatureType.CATEGORY, "contract length", categories=CONTRACT_TYPES
        ),
        Feature(
            "payment_method", FeatureType.CATEGORY, "how bills are paid", categories=PAYMENT_METHODS
        ),
        Feature("paperless_billing", FeatureType.CATEGORY, "e-mailed bills", categories=YES_NO),
        Feature("support_calls", FeatureType.INTEGER, "support calls, last 6 months", 0, 15),
        Feature("data_usage_gb", FeatureType.NUMBER, "mobile data per month", 0.0, 250.0),
        Feature("region", FeatureType.CATEGORY, "billing region", categories=REGIONS),
        Feature("num_products", FeatureType.INTEGER, "subscribed products", 1, 6),
        Feature("age", FeatureType.INTEGER, "customer age in years", 18, 90),
    ),
    target=TARGET_COLUMN,
    classes=CLASSES,
)
FEATURE_NAMES = tuple(FEATURE_SCHEMA.names)
NUMERIC_FEATURES = tuple(f.name for f in FEATURE_SCHEMA.features if f.type != FeatureType.CATEGORY)
CATEGORICAL_FEATURES = tuple(
    f.name for f in FEATURE_SCHEMA.features if f.type == FeatureType.CATEGORY
)


# Share of rows a bad batch of strength 1 corrupts.
BAD_BATCH_MAX_ROW_SHARE = 0.4
_UNKNOWN_CATEGORIES = {
    "contract_type": "quarterly",
    "payment_method": "crypto",
    "paperless_billing": "maybe",
    "region": "atlantis",
}
_OUT_OF_RANGE = {
    "tenure_months": -3,
    "monthly_charges": 999.0,
    "total_charges": -50.0,
    "support_calls": 99,
    "data_usage_gb": -1.0,
    "num_products": 0,
    "age": 150,
}


@dataclass(frozen=True)
class _Draws:
    """Every random number one batch needs, drawn before any scenario is applied."""

    contract_u: np.ndarray
    payment_u: np.ndarray
    paperless_u: np.ndarray
    region_u: np.ndarray
    products: np.ndarray
    age_z: np.ndarray
    tenure_gamma: np.ndarray
    charges_z: np.ndarray
    total_u: np.ndarray
    calls_u: np.ndarray
    usage_z: np.ndarray
    latent_noise: np.ndarray
    label_u: np.ndarray
    corrupt_u: np.ndarray
    corrupt_kind: np.ndarray
    corrupt_column: np.ndarray
    customer_ids: np.ndarray


def _draw(rng: np.random.Generator, n_rows: int) -> _Draws:
    return _Draws(
        contract_u=rng.random(n_rows),
        payment_u=rng.random(n_rows),
        paperless_u=rng.random(n_rows),
        region_u=rng.random(n_rows),
        products=1 + rng.binomial(5, 0.3, n_rows),
        age_z=rng.standard_normal(n_rows),
        tenure_gamma=rng.gamma(1.6, 1.0, n_rows),
        charges_z=rng.standard_normal(n_rows),
        total_u=rng.uniform(0.9, 1.05, n_rows),
        calls_u=rng.random(n_rows),
        usage_z=rng.standard_normal(n_rows),
        latent_noise=rng.normal(0.0, 0.35, n_rows),
        label_u=rng.random(n_rows),
        corrupt_u=rng.random(n_rows),
        corrupt_kind=rng.integers(0, 3, n_rows),
        corrupt_column=rng.random(n_rows),
        customer_ids=rng.integers(10**9, 10**10, n_rows),
    )


def _pick(u: np.ndarray, probabilities: np.ndarray, values: tuple[str, ...]) -> np.ndarray:
    """Inverse-CDF choice: the same ``u`` moves monotonically as the probabilities shift."""
    cumulative = np.cumsum(probabilities)
    index = np.minimum(np.searchsorted(cumulative, u, side="right"), len(values) - 1)
    return np.asarray(values, dtype=object)[index]


def _features(draws: _Draws, *, shift: float) -> pd.DataFrame:
    """Customer features; ``shift`` in [0, 1] is the covariate-shift strength."""
    contract_p = (1 - shift) * np.array([0.50, 0.28, 0.22]) + shift * np.array([0.82, 0.12, 0.06])
    contract = _pick(draws.contract_u, contract_p, CONTRACT_TYPES)
    payment_p = (1 - shift) * np.array([0.33, 0.21, 0.24, 0.22]) + shift * np.array(
        [0.55, 0.10, 0.18, 0.17]
    )
    payment = _pick(draws.payment_u, payment_p, PAYMENT_METHODS)
    region = _pick(draws.region_u, np.array([0.30, 0.25, 0.25, 0.20]), REGIONS)

    age = np.clip(np.rint(46 - 14 * shift + 14 * draws.age_z), 18, 90).astype(np.int64)
    paperless_p = 1 / (1 + np.exp((age - 50) / 12))
    paperless = np.where(draws.paperless_u < paperless_p, "yes", "no").astype(object)

    products = draws.products.astype(np.int64)
    tenure_scale = np.select(
        [contract == "month-to-month", contract == "one-year"], [9.0, 20.0], default=30.0
    ) * (1 - 0.45 * shift)
    tenure = np.clip(np.rint(draws.tenure_gamma * tenure_scale), 0, 72).astype(np.int64)

    monthly = np.clip(24 + 11 * products + 22 * shift + 14 * draws.charges_z, 18, 120)
    monthly = np.round(monthly, 2)
    total = np.clip(np.round(tenure * monthly * draws.total_u, 2), 0, 9000)

    calls_rate = np.exp(0.15 + 0.35 * (contract == "month-to-month") + 0.012 * (monthly - 60))
    calls = np.clip(_poisson_quantile(draws.calls_u, calls_rate), 0, 15).astype(np.int64)
    usage_median = (8 + 7 * products) * np.exp(-(age - 45) / 40)
    usage = np.clip(np.round(usage_median * np.exp(0.6 * draws.usage_z), 2), 0, 250)

    return pd.DataFrame(
        {
            "tenure_months": tenure,
            "monthly_charges": monthly,
            "total_charges": total,
            "contract_type": contract,
            "payment_method": payment,
            "paperless_billing": paperless,
            "support_calls": calls,
            "data_usage_gb": usage,
            "region": region,
            "num_products": products,
            "age": age,
        }
    )


def _poisson_quantile(u: np.ndarray, rate: np.ndarray, *, max_count: int = 40) -> np.ndarray:
    """The Poisson(rate) quantile of ``u``: a count drawn from a pre-drawn uniform."""
    term = np.exp(-rate)
    cumulative = term.copy()
    counts = np.zeros(u.shape, dtype=np.int64)
    for k in range(1, max_count + 1):
        counts += u > cumulative
        term = term * rate / k
        cumulative = cumulative + term
    return counts


def stable_logit(features: pd.DataFrame) -> np.ndarray:
    """Log-odds of churn in the training population (pure)."""
    contract = features["contract_type"].to_numpy()
    month_to_month = (contract == "month-to-month").astype(float)
    tenure = features["tenure_months"].to_numpy(dtype=float)
    monthly = features["monthly_charges"].to_numpy(dtype=float)
    calls = features["support_calls"].to_numpy(dtype=float)
    age = features["age"].to_numpy(dtype=float)
    usage = features["data_usage_gb"].to_numpy(dtype=float)
    return (
        -0.5
        + 2.0 * month_to_month
        - 1.6 * (contract == "two-year")
        - 2.9 * (1 - np.exp(-tenure / 10))
        + 0.063 * (monthly - 65) * month_to_month
        + 1.1 * np.clip(calls - 2, 0, 5)
        + 1.0 * (features["payment_method"].to_numpy() == "electronic-check")
        + 0.45 * (features["paperless_billing"].to_numpy() == "yes")
        - 0.55 * (features["num_products"].to_numpy(dtype=float) - 1)
        + 1.6 * ((age - 45) / 25) ** 2
        + 1.45 * np.exp(-usage / 6)
        + 0.55 * (features["region"].to_numpy() == "south")
    )


def drifted_logit(features: pd.DataFrame) -> np.ndarray:
    """Log-odds of churn after the market changed (pure).

    A competitor's unlimited plan poaches loyal heavy users on long contracts; support
    calls and payment method stop mattering; month-to-month customers now tend to stay.
    """
    contract = features["contract_type"].to_numpy()
    tenure = features["tenure_months"].to_numpy(dtype=float)
    usage = features["data_usage_gb"].to_numpy(dtype=float)
    monthly = features["monthly_charges"].to_numpy(dtype=float)
    return (
        -1.2
        - 1.8 * (contract == "month-to-month")
        + 1.5 * (contract == "two-year")
        + 2.4 * (1 - np.exp(-tenure / 10))
        + 0.05 * (usage - 25)
        + 0.035 * (monthly - 65)
        - 0.8 * np.clip(features["support_calls"].to_numpy(dtype=float) - 2, 0, 5)
    )


def _corrupt(frame: pd.DataFrame, draws: _Draws, *, strength: float) -> pd.DataFrame:
    """Damage a share ``BAD_BATCH_MAX_ROW_SHARE * strength`` of the rows, one cell each.

    A damaged row gets a missing value, an out-of-range number or an unknown category.
    The rows damaged at a lower strength are a subset of those damaged at a higher one.
    """
    damaged = draws.corrupt_u < BAD_BATCH_MAX_ROW_SHARE * strength
    out = frame.copy()
    numeric = list(_OUT_OF_RANGE)
    categorical = list(_UNKNOWN_CATEGORIES)
    for column in (*numeric, *categorical):
        out[column] = out[column].astype(object)
    for row in np.flatnonzero(damaged):
        kind = draws.corrupt_kind[row]
        if kind == 0:  # missing value, in any feature
            column = FEATURE_NAMES[int(draws.corrupt_column[row] * len(FEATURE_NAMES))]
            out.iat[row, out.columns.get_loc(column)] = None
        elif kind == 1:
            column = numeric[int(draws.corrupt_column[row] * len(numeric))]
            out.iat[row, out.columns.get_loc(column)] = _OUT_OF_RANGE[column]
        else:
            column = categorical[int(draws.corrupt_column[row] * len(categorical))]
            out.iat[row, out.columns.get_loc(column)] = _UNKNOWN_CATEGORIES[column]
    for column in numeric:
        out[column] = pd.to_numeric(out[column])  # int64, or float64 where a value is missing
    return out


def generate(
    *,
    n_rows: int,
    seed: int = 0,
    scenario: DriftScenario | str | None = None,
    strength: float = 0.0,
) -> pd.DataFrame:
    """``n_rows`` customers: ``customer_id``, the features of ``FEATURE_SCHEMA``, ``churned``.

    ``scenario`` (with ``strength`` in [0, 1]; 0 means no drift) changes the batch as
    described on ``DriftScenario``. A bad batch keeps the labels its rows had before the damage.
    """
    if n_rows < 1:
        raise ValueError(f"n_rows must be at least 1, got {n_rows}")
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be in [0, 1], got {strength}")
    chosen = DriftScenario(scenario) if scenario is not None else None
    if chosen is None and strength != 0.0:
        raise ValueError(f"strength {strength} needs a scenario")
    draws = _draw(np.random.default_rng(seed), n_rows)

    shift = strength if chosen is DriftScenario.COVARIATE_SHIFT else 0.0
    frame = _features(draws, shift=shift)
    logit = stable_logit(frame)
    if chosen is DriftScenario.CONCEPT_DRIFT:
        logit = (1 - strength) * logit + strength * drifted_logit(frame)
    churn_probability = 1 / (1 + np.exp(-(logit + draws.latent_noise)))
    labels = np.where(draws.label_u < churn_probability, POSITIVE_CLASS, NEGATIVE_CLASS)
    if chosen is DriftScenario.BAD_BATCH:
        frame = _corrupt(frame, draws, strength=strength)

    frame.insert(0, ID_COLUMN, [f"C{value}" for value in draws.customer_ids])
    frame[TARGET_COLUMN] = labels.astype(object)
    return frame
