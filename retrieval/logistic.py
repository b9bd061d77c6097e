"""A logistic model over named features: fitted with NumPy, stored as plain JSON numbers.

Few features and a few hundred labelled searches need no machine-learning library: Newton's
method on the L2-penalised log loss converges in a handful of steps. The penalty is
scikit-learn's (C = inverse strength, intercept not penalised), so figures compare with it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]


class ModelFormatError(ValueError):
    """A stored model is missing a field or its fields disagree."""


@dataclass(frozen=True)
class LogisticModel:
    """P = sigmoid(intercept + sum(coef * (x - mean) / scale)) over named features."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def __post_init__(self) -> None:
        if not len(self.features) == len(self.mean) == len(self.scale) == len(self.coef):
            raise ModelFormatError("features, mean, scale and coef differ in length")
        if any(s <= 0 for s in self.scale):
            raise ModelFormatError("every scale must be positive")

    def probability(self, values: Sequence[float]) -> float:
        """P for one row of feature values, in the order of `features`."""
        z = self.intercept + sum(
            c * (v - m) / s
            for c, v, m, s in zip(self.coef, values, self.mean, self.scale, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def logits(self, x: Matrix) -> Matrix:
        """Log-odds for each row of `x` (n x features): what a ranking sorts by."""
        standard = (x - np.array(self.mean)) / np.array(self.scale)
        return np.asarray(self.intercept + standard @ np.array(self.coef), dtype=np.float64)

    def probabilities(self, x: Matrix) -> Matrix:
        """P for each row of `x` (n x features)."""
        return 1.0 / (1.0 + np.exp(-np.clip(self.logits(x), -700, 700)))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LogisticModel:
        try:
            return cls(
                features=tuple(str(f) for f in data["features"]),
                mean=tuple(float(v) for v in data["mean"]),
                scale=tuple(float(v) for v in data["scale"]),
                coef=tuple(float(v) for v in data["coef"]),
                intercept=float(data["intercept"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFormatError(f"logistic model: missing or bad {exc}") from None

    def to_json(self) -> dict[str, Any]:
        # Six decimals: more would only be noise in a reviewed file (standardised inputs ~1).
        def rounded(value: Any) -> Any:
            if isinstance(value, float):
                return round(value, 6)
            if isinstance(value, tuple):
                return [rounded(v) for v in value]
            return value

        return {key: rounded(value) for key, value in asdict(self).items()}


def fit(
    x: Matrix, y: Sequence[float] | Matrix, features: Sequence[str], c: float = 1.0
) -> LogisticModel:
    """Fit on standardised features by Newton's method; `c` is the inverse penalty strength."""
    x = np.asarray(x, dtype=np.float64)
    target = np.asarray(y, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)  # a constant feature stays at weight 0
    design = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    penalty = np.full(design.shape[1], 1.0 / c)
    penalty[0] = 0.0  # the intercept is not shrunk
    w = np.zeros(design.shape[1])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ w, -700, 700)))
        gradient = design.T @ (p - target) + penalty * w
        hessian = (design.T * (p * (1 - p))) @ design + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return LogisticModel(tuple(features), tuple(float(v) for v in mean),
                         tuple(float(v) for v in scale), tuple(float(v) for v in w[1:]),
                         float(w[0]))


def read_json(path: Path, error: type[ModelFormatError]) -> dict[str, Any]:
    """The JSON object stored in `path`; `error` (naming the path) if it is not one."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise error(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise error(f"{path}: expected a JSON object")
    return data


def write_json(path: Path, data: dict[str, Any]) -> None:
    """`data` as a reviewed file: indented, non-ASCII kept as written, ending in a newline."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
