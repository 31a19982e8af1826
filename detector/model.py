"""The scoring model: a logistic regression over named cluster features, kept in a small
versioned JSON file (the shipped default is ``detector/models/default.json``).

A *term* of the model is a column of :data:`detector.schema.FEATURES`, a derived feature of
:data:`DERIVED`, or a product of those written ``a*b``: an interaction, such as
``coordination*creation_concentration``, which is high only when both are (a takedown
needs coordination *and* signs of inauthenticity). Every term lies in [0, 1]; the score is
``1 / (1 + exp(-(intercept + sum(coefficient * term))))``.

Missing data is not evidence: a term unknown for a cluster (NaN, e.g. creation
concentration when the input has no ``account_created_at``) takes the value in [0, 1] that
adds least to the score, 0 for a positive coefficient and 1 for a negative one. A cluster
therefore never scores higher for what the input does not say than for any value it could
have said.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from detector.errors import DataError, InputError
from detector.schema import FEATURES

MODEL_VERSION = 1
DEFAULT_MODEL = "default.json"  # in the detector.models package

Columns = Mapping[str, np.ndarray]


def _coordination(f: Columns) -> np.ndarray:
    """Members co-share many distinct objects (``repetition``), or each their own rewording
    of one spun text (``rewording``: a one-shot blast repeats through the spinner, not
    the account), that are theirs alone (``exclusivity``), *together*. Near-duplicate
    texts already bunch within their window; reposts, links and tags are shared by whole
    crowds (a fandom reposts all its idol's posts, and nobody else does), so for them
    what a network adds is acting together:
    shares of an object bunched within its window (``co_share_speed``; unknown counts as
    none) or the same pairs meeting again (``pair_recurrence``), weighed by the non-text
    share of the cluster's link weight."""
    text = f["text_share"]
    together = text + (1.0 - text) * np.fmax(f["co_share_speed"], f["pair_recurrence"])
    return np.fmax(f["repetition"], f["rewording"]) * f["exclusivity"] * together


DERIVED: dict[str, Callable[[Columns], np.ndarray]] = {"coordination": _coordination}
# The features a derived feature's evidence is credited to in the reasons.
CREDITED: dict[str, tuple[str, ...]] = {"coordination": ("repetition", "rewording", "exclusivity")}


def _factor(columns: Columns, name: str) -> np.ndarray:
    if name in DERIVED:
        return DERIVED[name](columns)
    return np.asarray(columns[name], np.float64)


def term_matrix(columns: Columns, terms: tuple[str, ...]) -> np.ndarray:
    """(n_clusters, len(terms)) values of each term; NaN where unknown."""
    return np.column_stack(
        [np.prod([_factor(columns, f) for f in term.split("*")], axis=0) for term in terms]
    )


def check_terms(terms: tuple[str, ...], source: str | None = None) -> None:
    """Raise DataError for a term naming neither a feature nor a derived feature."""
    known = set(FEATURES) | set(DERIVED)
    unknown = sorted({f for term in terms for f in term.split("*")} - known)
    if unknown:
        raise DataError(f"model names unknown feature(s) {unknown}", file=source)


@dataclass(frozen=True)
class ScoreModel:
    """A fitted logistic regression: one coefficient per term."""

    features: tuple[str, ...]  # the terms
    coefficients: tuple[float, ...]
    intercept: float
    threshold: float  # a cluster is flagged from this score on
    regularisation: float  # scikit-learn's C when the model is (re)fitted
    trained_on: str
    version: int = MODEL_VERSION

    def least_suspicious(self) -> np.ndarray:
        """Per term, the value in [0, 1] an unknown value takes (see the module docstring)."""
        return (np.asarray(self.coefficients) < 0).astype(np.float64)

    def design(self, columns: Columns) -> np.ndarray:
        """Term values with unknowns replaced by their least suspicious value."""
        values = term_matrix(columns, self.features)
        return np.where(np.isnan(values), self.least_suspicious(), values)

    def score(self, columns: Columns) -> np.ndarray:
        """Probability that each cluster is coordinated inauthentic, in [0, 1]."""
        logit = self.intercept + self.design(columns) @ np.asarray(self.coefficients)
        return 1.0 / (1.0 + np.exp(-logit))

    def evidence(self, columns: Columns) -> dict[str, np.ndarray]:
        """Per feature, how much it adds to each cluster's logit, to rank a cluster's
        reasons by what weighs in *its* score. A term's contribution (coefficient x value)
        goes to its plain features, split equally (``coordination*creation_concentration``
        to creation concentration: coordination is the gate every flagged cluster passes,
        the sign of inauthenticity what tells clusters apart); a term of derived features
        only, to the features they are credited to."""
        contribution = self.design(columns) * np.asarray(self.coefficients)
        out: dict[str, np.ndarray] = {}
        for k, term in enumerate(self.features):
            factors = term.split("*")
            plain = [f for f in factors if f not in DERIVED]
            credited = plain or [name for f in factors for name in CREDITED[f]]
            for name in credited:
                out[name] = out.get(name, 0.0) + contribution[:, k] / len(credited)
        return out

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str) -> ScoreModel:
        """Parse and check a model file (``source`` names it in errors)."""
        try:
            data = json.loads(text)
            model = cls(
                features=tuple(data["features"]),
                coefficients=tuple(float(c) for c in data["coefficients"]),
                intercept=float(data["intercept"]),
                threshold=float(data["threshold"]),
                regularisation=float(data["regularisation"]),
                trained_on=str(data["trained_on"]),
                version=int(data["version"]),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise DataError(f"not a detector model file ({error})", file=source) from None
        if model.version != MODEL_VERSION:
            raise DataError(f"model version {model.version} is not {MODEL_VERSION}", file=source)
        if len(model.features) != len(model.coefficients):
            raise DataError("features and coefficients differ in length", file=source)
        if not 0.0 <= model.threshold <= 1.0:
            raise DataError(f"threshold {model.threshold} is not in [0, 1]", file=source)
        check_terms(model.features, source)
        return model


def load_model(path: str | Path | None = None) -> ScoreModel:
    """The model in ``path``, or the shipped default when None."""
    if path is None:
        text = resources.files("detector.models").joinpath(DEFAULT_MODEL).read_text("utf-8")
        return ScoreModel.from_json(text, f"detector/models/{DEFAULT_MODEL}")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot read model file ({error.strerror})", file=str(path)) from None
    return ScoreModel.from_json(text, str(path))
