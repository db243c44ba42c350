"""TMVA's fitters: Interval's closed forms, MCFitter's TRandom3 draws (MT19937 from numpy), the
minima GA/SA/Minuit find against closed forms, Run's in-place result, options and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pymva import TMVA
from pymva.errors import ModelError, OptionError
from pymva.methods.fitters.base import split_fitter_options
from pymva.methods.fitters.genetic import GeneticFitterOptions


class Quadratic(TMVA.IFitterTarget):
    """(p - centre)ᵀ(p - centre) + 1, recording every parameter set it is given."""

    def __init__(self, centre: list[float]) -> None:
        super().__init__()
        self.centre = np.array(centre)
        self.calls: list[list[float]] = []

    def EstimatorFunction(self, parameters):  # type: ignore[no-untyped-def]
        self.calls.append(list(parameters))
        p = np.array([parameters.at(i) for i in range(parameters.size())])
        return float(((p - self.centre) ** 2).sum() + 1.0)


def test_interval_closed_forms_and_errors() -> None:
    iv = TMVA.Interval(0.5, 1.0, 6)
    assert [iv.GetElement(i) for i in range(6)] == pytest.approx([0.5, 0.6, 0.7, 0.8, 0.9, 1.0], abs=1e-15)
    assert iv.GetStepSize() == pytest.approx(0.1, abs=1e-15)
    assert (iv.GetMean(), iv.GetWidth(), iv.GetNbins()) == (0.75, 0.5, 6)
    c = TMVA.Interval(-2, 4)
    assert (c.GetMin(), c.GetMax(), c.GetMean(), c.GetNbins()) == (-2.0, 4.0, 1.0, 0)
    for bad, msg in [((1, 0), "maximum lower"), ((0, 1, 1), "at least 2 bins"), ((0, 1, -3), "nbins < 0")]:
        with pytest.raises(OptionError, match=msg):
            TMVA.Interval(*bad)
    with pytest.raises(OptionError, match="out of range"):
        iv.GetElement(6)
    with pytest.raises(OptionError, match="discrete"):
        c.GetElement(0)


def _trandom3_uniforms(seed: int, n: int) -> np.ndarray:
    """TRandom3::Rndm: MT19937 32-bit words (numpy's legacy generator seeds it as ROOT) · 2⁻³², zeros skipped."""
    words = np.random.RandomState(seed).randint(0, 2**32, size=n + 16, dtype=np.uint64)
    words = words[words != 0][:n]
    return words.astype(np.float64) * 2.0**-32


def test_mc_fitter_tries_trandom3_draws_and_keeps_the_first_best() -> None:
    target = Quadratic([0.3, 0.0, 2.0])
    ranges = [TMVA.Interval(-1, 1), TMVA.Interval(0, 1, 5), TMVA.Interval(2, 2)]
    fitter = TMVA.MCFitter(target, "mc", ranges, "SampleSize=50:Seed=7")
    pars = [0.0, 0.0, 0.0]
    value = fitter.Run(pars)
    # one discarded uniform, one per drawn range (2) for the initial set, then 2 per sample
    u = _trandom3_uniforms(7, 1 + 2 + 2 * 50)[3:].reshape(50, 2)
    expected = np.c_[-1 + 2 * u[:, 0], np.floor(u[:, 1] * 5) / 4, np.full(50, 2.0)]
    np.testing.assert_allclose(np.array(target.calls), expected, rtol=0, atol=1e-15)
    f = ((expected - target.centre) ** 2).sum(axis=1) + 1
    assert value == pytest.approx(f.min(), rel=1e-15)
    assert pars == pytest.approx(list(expected[int(np.argmin(f))]), abs=1e-15)
    assert fitter.n_calls == 50
    with pytest.raises(OptionError, match="mismatch in number of parameters"):
        fitter.Run([0.0])


def test_genetic_fitter_finds_the_minimum_and_fills_the_list() -> None:
    target = Quadratic([0.4, -1.5])
    fitter = TMVA.GeneticFitter(
        target, "ga", [TMVA.Interval(-1, 1), TMVA.Interval(-3, 3)], "PopSize=40:Steps=15:Cycles=2"
    )
    result: list[float] = []
    value = fitter.Run(result)
    assert len(result) == 2
    # converged: the best fitness moved by less than ConvCrit=0.001 over the last 15 generations
    assert value == pytest.approx(1.0, abs=2e-3)
    np.testing.assert_allclose(result, [0.4, -1.5], atol=0.05)
    assert value == pytest.approx(Quadratic([0.4, -1.5]).EstimatorFunction(_vec(result)), rel=1e-12)


def _vec(values: list[float]):  # type: ignore[no-untyped-def]
    from pymva.methods.fitters import ParameterVector

    return ParameterVector(values)


def test_genetic_fitter_on_a_discrete_interval_returns_an_element() -> None:
    target = Quadratic([0.73])
    fitter = TMVA.GeneticFitter(target, "ga", [TMVA.Interval(0.5, 1.0, 6)], "PopSize=10:Steps=5:Cycles=1")
    result: list[float] = []
    fitter.Run(result)
    assert result == pytest.approx([0.7], abs=1e-12)  # the element nearest 0.73


def test_simulated_annealing_and_minuit_find_the_minimum() -> None:
    for cls, opts in ((TMVA.SimulatedAnnealingFitter, "MaxCalls=3000"), (TMVA.MinuitFitter, "")):
        target = Quadratic([0.25, 2.5])
        fitter = cls(target, cls.__name__, [TMVA.Interval(-1, 1), TMVA.Interval(0, 4)], opts)
        pars = [0.0, 0.0]
        value = fitter.Run(pars)
        np.testing.assert_allclose(pars, [0.25, 2.5], atol=1e-3)
        assert value == pytest.approx(1.0, abs=1e-5)


def test_minuit_respects_the_bounds_and_fixes_zero_width_ranges() -> None:
    target = Quadratic([3.0, 5.0, 0.0])
    fitter = TMVA.MinuitFitter(
        target, "m", [TMVA.Interval(-1, 1), TMVA.Interval(0, 2), TMVA.Interval(0.5, 0.5)]
    )
    pars = [0.0, 1.0, 0.5]
    value = fitter.Run(pars)
    # the constrained minimum of a separable quadratic: each coordinate at its nearest bound
    np.testing.assert_allclose(pars, [1.0, 2.0, 0.5], atol=1e-6)
    assert value == pytest.approx(4 + 9 + 0.25 + 1, rel=1e-9)
    assert all(p[2] == 0.5 for p in target.calls)


def test_run_without_arguments_starts_at_the_centres() -> None:
    target = Quadratic([0.0])
    fitter = TMVA.MinuitFitter(target, "m", [TMVA.Interval(-2, 6)], "MaxCalls=1")
    fitter.Run()
    assert target.calls[0] == [2.0]
    assert fitter.best_parameters_ is not None


def test_options_and_bad_targets() -> None:
    t = Quadratic([0.0])
    with pytest.raises(OptionError, match="PopSize"):
        TMVA.GeneticFitter(t, "ga", [TMVA.Interval(0, 1)], "PopSiz=10")
    with pytest.raises(OptionError, match="KernelTemp"):
        TMVA.SimulatedAnnealingFitter(t, "sa", [TMVA.Interval(0, 1)], "KernelTemp=Fast")
    with pytest.raises(OptionError, match="EstimatorFunction"):
        TMVA.MCFitter(object(), "mc", [TMVA.Interval(0, 1)])
    with pytest.raises(OptionError, match=r"expected TMVA\.Interval"):
        TMVA.MCFitter(t, "mc", [(0, 1)])  # type: ignore[list-item]
    f = TMVA.GeneticFitter(
        t, "ga", [TMVA.Interval(0, 1)], "Formula=(0):PopSize=12:!Trim", ignore_unknown=True
    )
    assert (f.options.PopSize, f.options.Trim) == (12, False)
    assert split_fitter_options("H:PopSize=5:Steps=3:FitMethod=GA", GeneticFitterOptions) == (
        "PopSize=5:Steps=3",
        "H:FitMethod=GA",
    )

    class Bad(TMVA.IFitterTarget):
        def EstimatorFunction(self, parameters):  # type: ignore[no-untyped-def]
            return "x"

    with pytest.raises(ModelError, match="expected a number"):
        TMVA.MCFitter(Bad(), "mc", [TMVA.Interval(0, 1)], "SampleSize=2").Run([0.5])
    with pytest.raises(NotImplementedError, match="EstimatorFunction"):
        TMVA.MCFitter(TMVA.IFitterTarget(), "mc", [TMVA.Interval(0, 1)], "SampleSize=2").Run([0.5])


def test_nan_estimator_values_count_as_worst() -> None:
    class Holes(TMVA.IFitterTarget):
        def EstimatorFunction(self, parameters):  # type: ignore[no-untyped-def]
            x = parameters[0]
            return math.nan if x < 0.5 else (x - 0.7) ** 2

    pars = [0.0]
    value = TMVA.MCFitter(Holes(), "mc", [TMVA.Interval(0, 1)], "SampleSize=200").Run(pars)
    assert pars[0] >= 0.5
    assert value < 1e-3
