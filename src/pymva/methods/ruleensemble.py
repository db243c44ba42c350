"""TMVA's rule ensemble (``RuleEnsemble``, ``Rule``, ``RuleCut``) as flat arrays.

A *rule* is a box in the input space: a conjunction of cuts ``min < x_s < max`` on some variables
``s`` (either side may be absent); it takes the value 1 for an event inside the box and 0 otherwise
(``RuleCut::EvalEvent``: strict inequalities, the event value compared in double precision).  The
ensemble's response (``RuleEnsemble::EvalEvent``) is

    F(x) = a_0 + Σ_k a_k r_k(x) + Σ_j b_j · n_j · min(δ⁺_j, max(δ⁻_j, x_j))

with the rule coefficients ``a_k`` (model ``ModRule``/``ModRuleLinear``) and the linear terms of the
variables whose term is kept (``OK``; model ``ModLinear``/``ModRuleLinear``): ``δ⁻``/``δ⁺`` the
``LinQuantile`` winsorising bounds and ``n_j`` the normalisation ``σ_rule / σ(l_j)``
(``RuleEnsemble::MakeLinearTerms``).

:class:`RuleEnsemble` holds one entry per cut in parallel arrays (``cut_rule`` says which rule a cut
belongs to, cuts of a rule consecutive), so that :meth:`RuleEnsemble.rule_matrix` evaluates every
rule on many events at once (an events × rules boolean matrix, TMVA's "rule map").  The weights
file layout is ``RuleEnsemble::AddXMLTo`` / ``ReadFromXML``: ``<Weights NRules NLinear
LearningModel ImportanceCut LinQuantile AverageSupport AverageRuleSigma Offset>`` with one
``<Rule Importance Ref Coeff Support Sigma Norm SSB SSBNeve Nvars>`` per rule (each with its
``<Cut Selector Min Max DoMin DoMax>``), then one ``<Linear OK Coeff Norm DM DP Importance>`` per
variable.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ..errors import ModelError

__all__ = ["LEARNING_MODELS", "RuleEnsemble", "rule_cuts_from_path"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
IntA = npt.NDArray[np.intp]
BoolA = npt.NDArray[np.bool_]

#: ``RuleEnsemble::ELearningModel``: option value → the integer written as ``LearningModel``.
LEARNING_MODELS: dict[str, int] = {"ModRuleLinear": 0, "ModRule": 1, "ModLinear": 2}

#: Events per chunk of the rule evaluation (bounds the events × cuts boolean matrix).
_CHUNK = 1 << 14


def _fmt(x: float) -> str:
    return f"{float(x):.16e}"


def rule_cuts_from_path(
    selectors: list[int], values: list[float], directions: list[int]
) -> tuple[list[int], list[float], list[float], list[bool], list[bool]]:
    """The cuts of one rule from the node path it is made of (``RuleCut::MakeCuts``).

    Each step of the path from the root to the rule's node is a cut ``(selector, value, direction)``:
    direction ``+1`` when the path goes to the right daughter (read as ``x > value``), ``-1`` to the
    left one (``x < value``), whatever the node's cut type.  The steps are sorted by (selector,
    value, direction); per selector the *first* (smallest) ``+1`` value becomes the lower bound and
    the *largest* ``-1`` value the upper bound, as TMVA does.

    Parameters
    ----------
    selectors, values, directions : list
        One entry per step of the path (``len >= 1``).

    Returns
    -------
    tuple of lists
        ``(selector, min, max, do_min, do_max)``, one entry per distinct selector in increasing order.
    """
    steps = sorted(zip(selectors, values, directions, strict=True))
    sel: list[int] = []
    cmin: list[float] = []
    cmax: list[float] = []
    domin: list[bool] = []
    domax: list[bool] = []
    for s, v, d in steps:
        if not sel or sel[-1] != s:
            sel.append(s)
            cmin.append(0.0)
            cmax.append(0.0)
            domin.append(False)
            domax.append(False)
        if d == 1 and (not domin[-1] or v < cmin[-1]):
            cmin[-1], domin[-1] = v, True
        elif d == -1 and (not domax[-1] or v > cmax[-1]):
            cmax[-1], domax[-1] = v, True
    return sel, cmin, cmax, domin, domax


@dataclass
class RuleEnsemble:
    """Rules, linear terms and offset of a RuleFit model (TMVA ``RuleEnsemble``).

    Attributes
    ----------
    learning_model : int
        0 ``ModRuleLinear`` (TMVA ``kFull``), 1 ``ModRule``, 2 ``ModLinear``.
    n_variables : int
    offset : float
        ``a_0``.
    importance_cut, lin_quantile, average_support, average_rule_sigma : float
        As written in the weights file.
    coefficient, importance, importance_ref, support, sigma, norm, ssb, ssb_neve : ndarray of float64
        One entry per rule (TMVA ``Rule``'s members).
    cut_rule : ndarray of intp, shape (n_cuts,)
        Rule of each cut (non-decreasing: a rule's cuts are consecutive).
    cut_selector : ndarray of intp
    cut_min, cut_max : ndarray of float64
    cut_do_min, cut_do_max : ndarray of bool
    lin_ok : ndarray of bool, shape (n_linear,)
    lin_coefficient, lin_norm, lin_dm, lin_dp, lin_importance : ndarray of float64
        The linear terms (empty without linear terms).
    var_importance : ndarray of float64, shape (n_variables,)
        ``RuleEnsemble::CalcVarImportance`` (training only; not in the weights file).
    importance_ref_ensemble : float
        ``fImportanceRef``: the largest rule or linear importance (training only).
    """

    learning_model: int
    n_variables: int
    offset: float = 0.0
    importance_cut: float = 0.0
    lin_quantile: float = 0.025
    average_support: float = 0.8
    average_rule_sigma: float = 0.4
    coefficient: F64 = field(default_factory=lambda: np.zeros(0))
    importance: F64 = field(default_factory=lambda: np.zeros(0))
    importance_ref: F64 = field(default_factory=lambda: np.zeros(0))
    support: F64 = field(default_factory=lambda: np.zeros(0))
    sigma: F64 = field(default_factory=lambda: np.zeros(0))
    norm: F64 = field(default_factory=lambda: np.zeros(0))
    ssb: F64 = field(default_factory=lambda: np.zeros(0))
    ssb_neve: F64 = field(default_factory=lambda: np.zeros(0))
    cut_rule: IntA = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    cut_selector: IntA = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    cut_min: F64 = field(default_factory=lambda: np.zeros(0))
    cut_max: F64 = field(default_factory=lambda: np.zeros(0))
    cut_do_min: BoolA = field(default_factory=lambda: np.zeros(0, dtype=bool))
    cut_do_max: BoolA = field(default_factory=lambda: np.zeros(0, dtype=bool))
    lin_ok: BoolA = field(default_factory=lambda: np.zeros(0, dtype=bool))
    lin_coefficient: F64 = field(default_factory=lambda: np.zeros(0))
    lin_norm: F64 = field(default_factory=lambda: np.zeros(0))
    lin_dm: F64 = field(default_factory=lambda: np.zeros(0))
    lin_dp: F64 = field(default_factory=lambda: np.zeros(0))
    lin_importance: F64 = field(default_factory=lambda: np.zeros(0))
    var_importance: F64 = field(default_factory=lambda: np.zeros(0))
    importance_ref_ensemble: float = 1.0

    # ------------------------------------------------------------------ structure
    @property
    def do_rules(self) -> bool:
        """Whether the model has rule terms (``DoRules``)."""
        return self.learning_model in (0, 1)

    @property
    def do_linear(self) -> bool:
        """Whether the model has linear terms (``DoLinear``)."""
        return self.learning_model in (0, 2)

    @property
    def n_rules(self) -> int:
        """Number of rules."""
        return len(self.coefficient)

    @property
    def n_linear(self) -> int:
        """Number of linear terms (0 or the number of variables)."""
        return len(self.lin_norm)

    def rule_cut_slices(self) -> IntA:
        """Start index of each rule's cuts in the cut arrays, plus the total (shape (n_rules + 1,))."""
        counts = np.bincount(self.cut_rule, minlength=self.n_rules)
        return np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)

    def n_vars_used(self) -> IntA:
        """Distinct variables of each rule (``Rule::GetNumVarsUsed``), shape (n_rules,)."""
        return np.bincount(self.cut_rule, minlength=self.n_rules).astype(np.intp)

    def contains_variable(self) -> BoolA:
        """``Rule::ContainsVariable``: matrix (n_rules, n_variables) of the variables each rule cuts on."""
        out = np.zeros((self.n_rules, self.n_variables), dtype=bool)
        out[self.cut_rule, self.cut_selector] = True
        return out

    # ------------------------------------------------------------------ evaluation
    def rule_matrix(self, X: npt.ArrayLike) -> BoolA:
        """Which rules accept which events (TMVA's rule map, ``Rule::EvalEvent`` for all pairs).

        Parameters
        ----------
        X : array, shape (n_events, n_variables)
            Event values (float32 as TMVA's ``Event``; compared in float64).

        Returns
        -------
        ndarray of bool, shape (n_events, n_rules)

        Raises
        ------
        ModelError
            If ``X`` has the wrong number of columns or a rule has no cut.
        """
        x = np.asarray(X)
        if x.ndim != 2 or x.shape[1] != self.n_variables:
            raise ModelError(
                f"RuleFit: events with {x.shape[-1] if x.ndim else 0} variables given, the rule ensemble "
                f"has {self.n_variables}"
            )
        n = len(x)
        if self.n_rules == 0:
            return np.zeros((n, 0), dtype=bool)
        starts = self.rule_cut_slices()
        if np.any(np.diff(starts) == 0):
            raise ModelError("RuleFit: a rule without cuts (TMVA's 'empty rule')")
        out = np.empty((n, self.n_rules), dtype=bool)
        lo = np.where(self.cut_do_min, self.cut_min, -np.inf)
        hi = np.where(self.cut_do_max, self.cut_max, np.inf)
        for a in range(0, n, _CHUNK):
            v = x[a : a + _CHUNK][:, self.cut_selector].astype(np.float64)
            ok = ((v > lo) | ~self.cut_do_min) & ((v < hi) | ~self.cut_do_max)
            out[a : a + _CHUNK] = np.logical_and.reduceat(ok, starts[:-1], axis=1)
        return out

    def linear_values(self, X: npt.ArrayLike, normalised: bool = True) -> F64:
        """``min(δ⁺, max(δ⁻, x_j))`` per event and variable, times ``n_j`` when ``normalised``
        (``RuleEnsemble::EvalLinEventRaw``); shape (n_events, n_linear)."""
        x = np.asarray(X).astype(np.float64)
        if self.n_linear == 0:
            return np.zeros((len(x), 0))
        val = np.minimum(self.lin_dp, np.maximum(self.lin_dm, x[:, : self.n_linear]))
        return val * self.lin_norm if normalised else val

    def evaluate(self, X: npt.ArrayLike) -> F64:
        """The response ``F(x)`` (``RuleEnsemble::EvalEvent``), float64, shape (n_events,).

        Raises
        ------
        ModelError
            From :meth:`rule_matrix`.
        """
        x = np.asarray(X)
        out = np.full(len(x), float(self.offset))
        if self.do_rules and self.n_rules:
            out += self.rule_matrix(x).astype(np.float64) @ self.coefficient
        if self.do_linear and self.n_linear:
            coef = np.where(self.lin_ok, self.lin_coefficient, 0.0)
            out += self.linear_values(x) @ coef
        return out

    # ------------------------------------------------------------------ importance
    def calc_importance(self) -> None:
        """Rule importance ``|a_k| σ_k``, linear importance ``σ_rule |b_j|`` and their maximum as the
        reference (``RuleEnsemble::CalcImportance``)."""
        self.importance = np.abs(self.coefficient) * self.sigma
        max_rule = float(self.importance.max()) if self.n_rules else -1.0
        self.importance_ref = np.full(self.n_rules, max_rule if max_rule > 0 else 1.0)
        max_lin = -1.0
        self.lin_importance = np.zeros(self.n_linear)
        if self.do_linear and self.n_linear:
            self.lin_importance = self.average_rule_sigma * np.abs(self.lin_coefficient)
            max_lin = float(self.lin_importance.max())
        ref = max(max_rule, max_lin)
        self.importance_ref = np.full(self.n_rules, ref if ref > 0 else 1.0)
        self.importance_ref_ensemble = ref

    def cleanup(self) -> int:
        """Drop rules of relative importance below ``importance_cut`` and flag the linear terms
        (``CleanupRules``, ``CleanupLinear``); returns the number of rules removed."""
        removed = 0
        if self.n_rules and self.importance_cut > 0:
            keep = self.importance / self.importance_ref >= self.importance_cut
            removed = int((~keep).sum())
            self.select_rules(keep)
        if self.n_linear:
            with np.errstate(divide="ignore", invalid="ignore"):
                self.lin_ok = self.lin_importance / self.importance_ref_ensemble > self.importance_cut
        return removed

    def calc_var_importance(self) -> None:
        """``RuleEnsemble::CalcVarImportance``: each rule's importance shared out equally among the
        variables it cuts on, plus the kept linear terms' importance, relative to the largest."""
        imp = np.zeros(self.n_variables)
        if self.do_rules and self.n_rules:
            share = self.importance / self.n_vars_used()
            imp += share @ self.contains_variable().astype(np.float64)
        if self.do_linear and self.n_linear:
            imp[: self.n_linear] += np.where(self.lin_ok, self.lin_importance, 0.0)
        top = float(imp.max()) if len(imp) else 0.0
        self.var_importance = imp / top if top > 0 else imp

    def select_rules(self, keep: BoolA) -> None:
        """Keep only the rules where ``keep`` is true (their cuts too), in order."""
        keep = np.asarray(keep, dtype=bool)
        for name in (
            "coefficient",
            "importance",
            "importance_ref",
            "support",
            "sigma",
            "norm",
            "ssb",
            "ssb_neve",
        ):
            arr = getattr(self, name)
            if len(arr) == len(keep):
                setattr(self, name, arr[keep])
        cut_keep = keep[self.cut_rule]
        new_index = np.cumsum(keep) - 1
        self.cut_rule = new_index[self.cut_rule[cut_keep]].astype(np.intp)
        for name in ("cut_selector", "cut_min", "cut_max", "cut_do_min", "cut_do_max"):
            setattr(self, name, getattr(self, name)[cut_keep])

    # ------------------------------------------------------------------ XML
    def to_xml(self, parent: ET.Element) -> None:
        """Write the attributes and children of TMVA's ``<Weights>`` (``RuleEnsemble::AddXMLTo``)."""
        parent.set("NRules", str(self.n_rules))
        parent.set("NLinear", str(self.n_linear))
        parent.set("LearningModel", str(self.learning_model))
        parent.set("ImportanceCut", _fmt(self.importance_cut))
        parent.set("LinQuantile", _fmt(self.lin_quantile))
        parent.set("AverageSupport", _fmt(self.average_support))
        parent.set("AverageRuleSigma", _fmt(self.average_rule_sigma))
        parent.set("Offset", _fmt(self.offset))
        starts = self.rule_cut_slices()
        for k in range(self.n_rules):
            rule = ET.SubElement(parent, "Rule")
            rule.set("Importance", _fmt(self.importance[k]))
            rule.set("Ref", _fmt(self.importance_ref[k]))
            rule.set("Coeff", _fmt(self.coefficient[k]))
            rule.set("Support", _fmt(self.support[k]))
            rule.set("Sigma", _fmt(self.sigma[k]))
            rule.set("Norm", _fmt(self.norm[k]))
            rule.set("SSB", _fmt(self.ssb[k]))
            rule.set("SSBNeve", _fmt(self.ssb_neve[k]))
            rule.set("Nvars", str(starts[k + 1] - starts[k]))
            for c in range(starts[k], starts[k + 1]):
                ET.SubElement(
                    rule,
                    "Cut",
                    Selector=str(int(self.cut_selector[c])),
                    Min=_fmt(self.cut_min[c]),
                    Max=_fmt(self.cut_max[c]),
                    DoMin="T" if self.cut_do_min[c] else "F",
                    DoMax="T" if self.cut_do_max[c] else "F",
                )
        for j in range(self.n_linear):
            ET.SubElement(
                parent,
                "Linear",
                OK="1" if self.lin_ok[j] else "0",
                Coeff=_fmt(self.lin_coefficient[j]),
                Norm=_fmt(self.lin_norm[j]),
                DM=_fmt(self.lin_dm[j]),
                DP=_fmt(self.lin_dp[j]),
                Importance=_fmt(self.lin_importance[j]),
            )

    @classmethod
    def from_xml(cls, weights: ET.Element, n_variables: int, where: str = "weights file") -> RuleEnsemble:
        """Read TMVA's ``<Weights>`` of a RuleFit method (``RuleEnsemble::ReadFromXML``).

        Parameters
        ----------
        weights : Element
        n_variables : int
            The method's number of input variables (selectors and linear terms are checked against it).
        where : str
            Names the file in messages.

        Returns
        -------
        RuleEnsemble

        Raises
        ------
        ModelError
            For a missing or malformed attribute, an unknown ``LearningModel``, a ``<Rule>`` whose number
            of ``<Cut>`` differs from its ``Nvars``, a selector out of range, or counts that do not match
            ``NRules``/``NLinear``.
        """

        def num(el: ET.Element, name: str, tag: str) -> float:
            raw = el.get(name)
            try:
                return float(raw)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise ModelError(f"{where}: <{tag}> needs a numeric attribute {name} (got {raw!r})") from None

        def integer(el: ET.Element, name: str, tag: str) -> int:
            raw = el.get(name)
            try:
                return int(raw)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise ModelError(
                    f"{where}: <{tag}> needs an integer attribute {name} (got {raw!r})"
                ) from None

        n_rules = integer(weights, "NRules", "Weights")
        n_linear = integer(weights, "NLinear", "Weights")
        model = integer(weights, "LearningModel", "Weights")
        if model not in (0, 1, 2):
            raise ModelError(f"{where}: LearningModel={model}; accepted: 0 (full), 1 (rules), 2 (linear)")
        ens = cls(
            learning_model=model,
            n_variables=n_variables,
            offset=num(weights, "Offset", "Weights"),
            importance_cut=num(weights, "ImportanceCut", "Weights"),
            lin_quantile=num(weights, "LinQuantile", "Weights"),
            average_support=num(weights, "AverageSupport", "Weights"),
            average_rule_sigma=num(weights, "AverageRuleSigma", "Weights"),
        )
        rules = weights.findall("Rule")
        linears = weights.findall("Linear")
        if len(rules) != n_rules:
            raise ModelError(f"{where}: NRules={n_rules} but {len(rules)} <Rule> elements")
        if len(linears) != n_linear or n_linear not in (0, n_variables):
            raise ModelError(
                f"{where}: NLinear={n_linear} with {len(linears)} <Linear> elements; expected 0 or the "
                f"number of variables ({n_variables})"
            )
        rule_attrs = ("Coeff", "Importance", "Ref", "Support", "Sigma", "Norm", "SSB", "SSBNeve")
        vals = np.array([[num(r, a, "Rule") for a in rule_attrs] for r in rules]).reshape(
            n_rules, len(rule_attrs)
        )
        (ens.coefficient, ens.importance, ens.importance_ref, ens.support, ens.sigma, ens.norm, ens.ssb,
         ens.ssb_neve) = (np.ascontiguousarray(vals[:, i]) for i in range(len(rule_attrs)))  # fmt: skip
        cut_rule: list[int] = []
        sel: list[int] = []
        cmin: list[float] = []
        cmax: list[float] = []
        domin: list[bool] = []
        domax: list[bool] = []
        for k, r in enumerate(rules):
            cuts = r.findall("Cut")
            nv = integer(r, "Nvars", "Rule")
            if nv != len(cuts) or nv < 1:
                raise ModelError(f"{where}: rule {k} has Nvars={nv} but {len(cuts)} <Cut> elements")
            for c in cuts:
                s = integer(c, "Selector", "Cut")
                if not 0 <= s < n_variables:
                    raise ModelError(f"{where}: rule {k} cuts on variable {s}; the method has {n_variables}")
                cut_rule.append(k)
                sel.append(s)
                cmin.append(num(c, "Min", "Cut"))
                cmax.append(num(c, "Max", "Cut"))
                domin.append(c.get("DoMin", "F").strip().startswith("T"))
                domax.append(c.get("DoMax", "F").strip().startswith("T"))
        ens.cut_rule = np.array(cut_rule, dtype=np.intp)
        ens.cut_selector = np.array(sel, dtype=np.intp)
        ens.cut_min = np.array(cmin, dtype=np.float64)
        ens.cut_max = np.array(cmax, dtype=np.float64)
        ens.cut_do_min = np.array(domin, dtype=bool)
        ens.cut_do_max = np.array(domax, dtype=bool)
        lin_attrs = ("Coeff", "Norm", "DM", "DP", "Importance")
        lv = np.array([[num(e, a, "Linear") for a in lin_attrs] for e in linears]).reshape(
            n_linear, len(lin_attrs)
        )
        ens.lin_ok = np.array([integer(e, "OK", "Linear") == 1 for e in linears], dtype=bool)
        ens.lin_coefficient, ens.lin_norm, ens.lin_dm, ens.lin_dp, ens.lin_importance = (
            np.ascontiguousarray(lv[:, i]) for i in range(len(lin_attrs))
        )
        return ens
