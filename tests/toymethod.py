"""A test-only method (``ToyMethod``, registered under kHMatrix by the ``toy`` fixture) and helpers
to train it and write its weights file; shared by the weights-file and Reader tests."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pymva.data.dataset import Sample, VariableInfo
from pymva.io.weights import (
    weights_file_path,
    write_weights_file,
)
from pymva.methods import registry
from pymva.methods.base import BaseMethodOptions, MethodBase, MethodContext
from pymva.options import option, positive
from pymva.types import EMVA, EAnalysisType

# ---------------------------------------------------------------------------------------------- toy method


@dataclass(frozen=True)
class ToyOptions(BaseMethodOptions):
    """Options of every type and shape the writer must handle."""

    Scale: float = option(0.5, "output scale")
    NumIter: int = option(3, "unused integer", check=positive)
    Mode: str = option("Linear", "output mode", allowed=("Linear", "Square"))
    Offsets: tuple[float, ...] = option((0.0, 0.0, 0.0), "an array option", size=3)
    UseBias: bool = option(True, "fit an intercept")
    Note: str = option("", "free text")


class ToyMethod(MethodBase):
    """Weighted least squares on one-hot classes (or the targets); outputs scaled by ``Scale``."""

    method_type = EMVA.kHMatrix
    Options = ToyOptions

    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        return True

    def _train(self, sample: Sample) -> None:
        X = sample.X.astype(np.float64)
        opts = self.options
        assert isinstance(opts, ToyOptions)
        design = np.column_stack([X, np.ones(len(X))]) if opts.UseBias else X
        if self.context.analysis_type == EAnalysisType.kRegression:
            Y = sample.targets.astype(np.float64)
        else:
            Y = np.eye(self.context.n_classes)[sample.class_id]
        sw = np.sqrt(np.abs(sample.weights.astype(np.float64)))[:, None]
        coef, *_ = np.linalg.lstsq(design * sw, Y * sw, rcond=None)
        if not opts.UseBias:
            coef = np.vstack([coef, np.zeros((1, Y.shape[1]))])
        self.coef_ = coef.astype(np.float32)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        opts = self.options
        assert isinstance(opts, ToyOptions)
        # column by column in float64: every row's result is independent of the batch size (a BLAS
        # matmul may sum in a different order for 1 row and for many, changing the last bit)
        coef = self.coef_.astype(np.float64)
        out = np.broadcast_to(coef[-1], (len(X), coef.shape[1])).copy()
        for j in range(X.shape[1]):
            out += X[:, j, None].astype(np.float64) * coef[j]
        if opts.Mode == "Square":
            out = out * np.abs(out)
        return (out * np.float32(opts.Scale)).astype(np.float32)

    def add_weights_xml(self, parent: ET.Element) -> None:
        parent.set("NRows", str(self.coef_.shape[0]))
        parent.set("NCols", str(self.coef_.shape[1]))
        for row in self.coef_:
            ET.SubElement(parent, "Row").text = " ".join(f"{float(v):.9g}" for v in row)

    def read_weights_xml(self, weights: ET.Element | None) -> None:
        assert weights is not None
        rows = [[float(t) for t in (r.text or "").split()] for r in weights.findall("Row")]
        self.coef_ = np.array(rows, dtype=np.float32).reshape(int(weights.get("NRows", "0")), -1)
        super().read_weights_xml(weights)


@pytest.fixture
def toy() -> Iterator[type[ToyMethod]]:
    """Register ``ToyMethod`` under kHMatrix for one test, restoring the registry afterwards."""
    registry._load_builtin_methods()
    old = registry._REGISTRY.get(EMVA.kHMatrix)
    registry._REGISTRY[EMVA.kHMatrix] = ToyMethod
    yield ToyMethod
    if old is None:
        registry._REGISTRY.pop(EMVA.kHMatrix, None)
    else:
        registry._REGISTRY[EMVA.kHMatrix] = old


def make_sample(
    analysis: EAnalysisType,
    n: int = 400,
    n_var: int = 3,
    n_classes: int = 2,
    n_targets: int = 1,
    seed: int = 1,
) -> Sample:
    rng = np.random.default_rng(seed)
    class_id = rng.integers(0, n_classes, n).astype(np.int32)
    X = (rng.normal(size=(n, n_var)) + class_id[:, None] * 0.8).astype(np.float32)
    if analysis == EAnalysisType.kRegression:
        class_id[:] = 0
        coefs = rng.normal(size=(n_var, n_targets))
        targets = (X @ coefs + 0.1 * rng.normal(size=(n, n_targets))).astype(np.float32)
    else:
        targets = np.zeros((n, 0), np.float32)
    return Sample(
        X=X,
        targets=targets,
        spectators=(X[:, :1] * 2).astype(np.float32),
        weights=rng.uniform(0.5, 1.5, n).astype(np.float32),
        class_id=class_id,
    )


def make_context(
    analysis: EAnalysisType,
    sample: Sample,
    weight_dir: Path,
    n_classes: int = 2,
) -> MethodContext:
    def info(i: int, kind: str, col: np.ndarray) -> VariableInfo:
        prefix = {"variable": "var", "target": "target", "spectator": "spec"}[kind]
        name = f"{prefix}{i + 1}"
        return VariableInfo(
            expression=name if kind != "spectator" else f"{name}*2",
            label=name,
            internal_name=name,
            title=f"{name} title",
            unit="GeV" if i == 0 else "",
            min=float(col.min()),
            max=float(col.max()),
            kind=kind,  # type: ignore[arg-type]
        )

    if analysis == EAnalysisType.kRegression:
        classes: tuple[str, ...] = ("Regression",)
    elif n_classes == 2:
        classes = ("Signal", "Background")
    else:
        classes = tuple(f"Class_{k}" for k in range(n_classes))
    return MethodContext(
        job_name="TMVAClassification",
        dataset_name="dataset",
        analysis_type=analysis,
        variables=tuple(info(i, "variable", sample.X[:, i]) for i in range(sample.X.shape[1])),
        class_names=classes,
        targets=tuple(info(i, "target", sample.targets[:, i]) for i in range(sample.targets.shape[1])),
        spectators=tuple(
            info(i, "spectator", sample.spectators[:, i]) for i in range(sample.spectators.shape[1])
        ),
        weight_dir=weight_dir,
    )


def trained_toy(
    tmp_path: Path,
    analysis: EAnalysisType = EAnalysisType.kClassification,
    options: str = "Scale=0.75:Offsets[1]=2.5:!UseBias:Note=some text",
    n_classes: int = 2,
    n_targets: int = 1,
    **kwargs: Any,
) -> ToyMethod:
    sample = make_sample(analysis, n_classes=n_classes, n_targets=n_targets)
    ctx = make_context(analysis, sample, tmp_path / "dataset" / "weights", n_classes=n_classes)
    method = ToyMethod("Toy", ctx, options, **kwargs)
    method.train(sample)
    return method


def write_toy(tmp_path: Path, method: ToyMethod) -> Path:
    path = weights_file_path(method.context.weight_dir, method.context.job_name, method.title)
    return write_weights_file(
        method, path, job_name=method.context.job_name, training_events=400, training_time=1.5
    )


def canonical(elem: ET.Element) -> str:
    """The element as text without layout whitespace (indentation added when the file is written)."""
    copy = ET.fromstring(ET.tostring(elem))
    for e in copy.iter():
        e.text = (e.text or "").strip() or None
        e.tail = None
    return ET.tostring(copy, encoding="unicode")


# ---------------------------------------------------------------------------------------------- structure
