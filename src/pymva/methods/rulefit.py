"""``RuleFit`` (``Types.kRuleFit``): Friedman and Popescu's rule ensembles, TMVA's own implementation
(``MethodRuleFit.cxx``, ``RuleFit.cxx``, ``RuleEnsemble.cxx``, ``Rule.cxx``, ``RuleCut.cxx``,
``RuleFitParams.cxx``; ``RuleFitModule=RFTMVA``).

Training (``MethodRuleFit::TrainTMVARuleFit``), on the transformed training events in TMVA's order:

1. a forest of ``nTrees`` decision trees (``RuleFit::MakeForest``) grown with TMVA's tree growing
   (:func:`pymva.methods.decisiontree.grow_tree`: Gini index, 20 cuts, no depth limit, no pruning),
   each with a minimum node size of ``100·U(fEventsMin, fEventsMax/2)`` percent of its sample
   (``U`` from ``TRandom3`` with its default seed 4357; a tree of fewer than 3 nodes is grown again,
   at most 10 tries).  ``ForestType=AdaBoost``: every tree sees all events (shuffled once), the
   weights of misclassified events are multiplied by ``(1−err)/err`` and renormalised after each tree
   (restored afterwards); ``ForestType=Random``: randomised trees on a reshuffled subsample of
   ``min(0.5, (100 + 6√N)/N)·N`` events;
2. one rule per non-root node of every tree (its path from the root, :mod:`.ruleensemble`), right
   subtree before left; rules of equal topology closer than ``RuleMinDist`` (cut distance in units of
   the variables' RMS) are thinned out, one of each close pair dropped at random
   (``RemoveSimilarRules``);
3. linear terms (models ``ModLinear``/``ModRuleLinear``): each variable winsorised at its weighted
   ``LinQuantile`` and ``1−LinQuantile`` quantiles and normalised by ``0.4/σ`` (``MakeLinearTerms``);
4. the rule support ``s_k`` (weighted fraction of events accepted), ``σ_k = √(s_k(1−s_k))``, the
   rules' S/(S+B) (``CalcRuleSupport``), the average support and ``σ_rule = √(s̄(1−s̄))``;
5. the coefficients from the gradient-directed path (:mod:`.rulefitparams`, ``MakeGDPath``);
6. the importances (``CalcImportance``: ``|a_k| σ_k`` and ``σ_rule |b_j|``, relative to the largest),
   removal of rules below ``MinImp`` and of linear terms not above it, and the variable importance
   (``CalcVarImportance``), which is the ranking ("Importance").

The response is the ensemble's ``F(x)`` (:meth:`RuleEnsemble.evaluate`, ``GetMvaValue``), signal-like
above 0.  Weights file: ``RuleEnsemble::AddXMLTo`` (see :mod:`.ruleensemble`).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..data.dataset import Sample
from ..errors import ModelError, OptionError
from ..options import option
from ..types import EMVA, EAnalysisType
from .base import BaseMethodOptions, MethodBase, MethodContext
from .decisiontree import DecisionTree, GrowthCache, TreeConfig, grow_tree
from .ranking import Ranking
from .registry import register_method
from .ruleensemble import LEARNING_MODELS, RuleEnsemble, rule_cuts_from_path
from .rulefitparams import GDSettings, make_gd_path
from .separation import SEPARATION_INDEX
from .trandom3 import TRandom3

__all__ = ["MethodRuleFit", "RuleFitOptions", "make_rules", "remove_similar_rules"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
IntA = npt.NDArray[np.intp]
BoolA = npt.NDArray[np.bool_]

#: ``TRandom3``'s default seed (TMVA's ``TRandom3 rndGen;`` in ``MakeForest`` and ROOT's ``gRandom``).
_TRANDOM3_DEFAULT_SEED = 4357


@dataclass(frozen=True)
class RuleFitOptions(BaseMethodOptions):
    """Options of RuleFit (TMVA ``MethodRuleFit::DeclareOptions``; defaults after ``Init``)."""

    GDTau: float = option(-1.0, "Gradient-directed (GD) path: default fit cut-off")
    GDTauPrec: float = option(0.01, "GD path: precision of tau")
    GDStep: float = option(0.01, "GD path: step size")
    GDNSteps: int = option(10000, "GD path: number of steps")
    GDErrScale: float = option(1.1, "Stop scan when error > scale*errmin")
    LinQuantile: float = option(0.025, "Quantile of linear terms (removes outliers)")
    GDPathEveFrac: float = option(0.5, "Fraction of events used for the path search")
    GDValidEveFrac: float = option(0.5, "Fraction of events used for the validation")
    fEventsMin: float = option(0.1, "Minimum fraction of events in a splittable node")
    fEventsMax: float = option(0.9, "Maximum fraction of events in a splittable node")
    nTrees: int = option(20, "Number of trees in forest.")
    ForestType: str = option(
        "AdaBoost",
        "Method to use for forest generation (AdaBoost or RandomForest)",
        allowed=("AdaBoost", "Random"),
    )
    RuleMinDist: float = option(0.001, "Minimum distance between rules")
    MinImp: float = option(0.01, "Minimum rule importance accepted")
    Model: str = option(
        "ModRuleLinear", "Model to be used", allowed=("ModRule", "ModRuleLinear", "ModLinear")
    )
    RuleFitModule: str = option("RFTMVA", "Which RuleFit module to use", allowed=("RFTMVA", "RFFriedman"))
    RFWorkDir: str = option("./rulefit", "Friedman's RuleFit module (RFF): working dir")
    RFNrules: int = option(2000, "RFF: Maximum number of rules")
    RFNendnodes: int = option(4, "RFF: Average number of end nodes")


@dataclass(frozen=True)
class _Settings:
    """The options after ``ProcessOptions``' range checks."""

    n_trees: int
    min_imp: float
    min_frac: float
    max_frac: float
    use_boost: bool
    rule_min_dist: float
    lin_quantile: float
    model: int
    gd: GDSettings


def _verify_range(
    log: Any, name: str, value: float, vmin: float, vmax: float, vdef: float | None = None
) -> float:
    """``Tools::VerifyRange``: a value outside ``[vmin, vmax]`` is replaced (with a warning) by
    ``vdef`` when given, else by the nearer limit."""
    if vmin <= value <= vmax:
        return value
    new = vdef if vdef is not None else (vmin if value < vmin else vmax)
    log.warning("Option <%s> %g out of range [%g, %g]: set to %g", name, value, vmin, vmax, new)
    return new


# ---------------------------------------------------------------------------------------------- rules
def make_rules(
    tree: DecisionTree,
) -> list[tuple[list[int], list[float], list[float], list[bool], list[bool]]]:
    """The rules of one tree (``RuleEnsemble::MakeRulesFromTree``): one per non-root node, in TMVA's
    order (a node, then its right subtree, then its left subtree), each the cuts of
    :func:`~pymva.methods.ruleensemble.rule_cuts_from_path` on the node's path."""
    rules = []
    stack: list[tuple[int, list[tuple[int, float, int]]]] = [(0, [])]
    while stack:
        node, path = stack.pop()
        if node != 0:
            sel, val, dirs = zip(*path, strict=True)
            rules.append(rule_cuts_from_path(list(sel), list(val), list(dirs)))
        if tree.left[node] >= 0:
            step = (int(tree.ivar[node]), float(tree.cut[node]))
            stack.append((int(tree.left[node]), [*path, (*step, -1)]))
            stack.append((int(tree.right[node]), [*path, (*step, 1)]))  # popped first
    return rules


def remove_similar_rules(ens: RuleEnsemble, rms: F64, min_dist: float, rng: TRandom3) -> int:
    """``RuleEnsemble::RemoveSimilarRules``: of two rules with the same cut topology (variables and
    cut sides) whose cut distance ``√Σ((c_A − c_B)/RMS)²`` is below ``min_dist`` (any distance when
    ``min_dist < 0``), one, drawn at random, is removed.  Returns the number removed."""
    n = ens.n_rules
    if n < 2:
        return 0
    starts = ens.rule_cut_slices()
    groups: dict[tuple[tuple[int, bool, bool], ...], list[int]] = {}
    for k in range(n):
        sl = slice(starts[k], starts[k + 1])
        key = tuple(
            zip(
                ens.cut_selector[sl].tolist(),
                ens.cut_do_min[sl].tolist(),
                ens.cut_do_max[sl].tolist(),
                strict=True,
            )
        )
        groups.setdefault(key, []).append(k)
    remove = np.zeros(n, dtype=bool)
    safe = np.where(rms > 0, rms, 1.0)
    for key, members in groups.items():
        if len(members) < 2:
            continue
        idx = np.array(members)
        ncut = len(key)
        cut_idx = starts[idx][:, None] + np.arange(ncut)[None, :]
        sel = ens.cut_selector[cut_idx[0]]
        scale = np.where(rms[sel] > 0, 1.0 / safe[sel], 0.0)
        lo = np.where(ens.cut_do_min[cut_idx[0]], ens.cut_min[cut_idx] * scale, 0.0)
        hi = np.where(ens.cut_do_max[cut_idx[0]], ens.cut_max[cut_idx] * scale, 0.0)
        d2 = ((lo[:, None, :] - lo[None, :, :]) ** 2).sum(-1) + ((hi[:, None, :] - hi[None, :, :]) ** 2).sum(
            -1
        )
        equal = np.sqrt(d2) < min_dist if min_dist >= 0 else np.ones_like(d2, dtype=bool)
        for i in range(len(idx)):
            if remove[idx[i]]:
                continue
            for j in (np.flatnonzero(equal[i, i + 1 :]) + i + 1).tolist():
                if remove[idx[j]]:
                    continue
                remind = int(idx[j]) if rng.rndm() > 0.5 else int(idx[i])
                remove[remind] = True
    ens.select_rules(~remove)
    return int(remove.sum())


def _linear_terms(X: F32, w: F64, cls: IntA, quantile: float, rule_sigma: float) -> tuple[F64, F64, F64]:
    """``RuleEnsemble::MakeLinearTerms``: the winsorising bounds ``δ⁻``, ``δ⁺`` and the norms."""
    n, nvar = X.shape
    neff = float(w.sum())
    nquant = quantile * neff
    avg_w = neff / n if n else 0.0
    dm, dp, norm = np.zeros(nvar), np.zeros(nvar), np.zeros(nvar)
    for v in range(nvar):
        x = X[:, v].astype(np.float64)
        order = np.lexsort((cls, w, x))
        xs, ws = x[order], w[order]
        cum = np.cumsum(ws)
        if nquant > 0:
            hit = np.flatnonzero(cum >= nquant)
            im = int(hit[0]) if hit.size else n - 1
        else:
            im = 0
        rcum = np.cumsum(ws[::-1])[::-1]
        if nquant > 0:
            hit = np.flatnonzero(rcum >= nquant)
            ip = int(hit[-1]) if hit.size else 0
        else:
            ip = n - 1
        dm[v], dp[v] = xs[im], xs[ip]
        lx = np.minimum(dp[v], np.maximum(dm[v], xs))
        s1, s2 = float(ws @ lx), float(ws @ (lx * lx))
        var = (s2 - s1 * s1 / neff) / (neff - avg_w)
        stdl = math.sqrt(var) if var >= 0 else math.nan
        norm[v] = rule_sigma / stdl if stdl > 0 else 1.0
    return dm, dp, norm


def _weighted_rms(X: F32, w: F64) -> F64:
    """The weighted RMS of each variable (``MethodBase::GetRMS`` of the transformed training events)."""
    x = X.astype(np.float64)
    sw = float(w.sum())
    mean = (w @ x) / sw
    var = (w @ (x * x)) / sw - mean * mean
    return np.sqrt(np.maximum(var, 0.0))


# ---------------------------------------------------------------------------------------------- method
@register_method
class MethodRuleFit(MethodBase):
    """TMVA's RuleFit (``RuleFitModule=RFTMVA``; classification with 2 classes).

    Attributes
    ----------
    ensemble_ : RuleEnsemble or None
        The rules, linear terms and offset (training or weights file).
    n_rules_generated_ : int
        Rules made from the forest before cleanup (training only).
    gd_tau_ : float or None
        The ``τ`` the path used (training only).
    """

    method_type = EMVA.kRuleFit
    Options = RuleFitOptions
    ranking_criterion: ClassVar[str] = "Importance"
    help_text: ClassVar[str] = (
        "--- Short description:\n"
        "\n"
        "This method uses a collection of so called rules to create a\n"
        "discriminating scoring function. Each rule consists of a series\n"
        "of cuts in parameter space. The ensemble of rules are created\n"
        "from a forest of decision trees, trained using the training data.\n"
        "Each node (apart from the root) corresponds to one rule.\n"
        "The scoring function is then obtained by linearly combining\n"
        "the rules. A fitting procedure is applied to find the optimum\n"
        "set of coefficients. The goal is to find a model with few rules\n"
        "but with a strong discriminating power.\n"
        "\n"
        "--- Performance optimisation:\n"
        "\n"
        "There are two important considerations to make when optimising:\n"
        "\n"
        "  1. Topology of the decision tree forest\n"
        "  2. Fitting of the coefficients\n"
        "\n"
        "The maximum complexity of the rules is defined by the size of\n"
        "the trees. Large trees will yield many complex rules and capture\n"
        "higher order correlations. On the other hand, small trees will\n"
        "lead to a smaller ensemble with simple rules, only capable of\n"
        "modeling simple structures.\n"
        "Several parameters exists for controlling the complexity of the\n"
        "rule ensemble.\n"
        "\n"
        "The fitting procedure searches for a minimum using a gradient\n"
        "directed path. Apart from step size and number of steps, the\n"
        "evolution of the path is defined by a cut-off parameter, tau.\n"
        "This parameter is unknown and depends on the training data.\n"
        "A large value will tend to give large weights to a few rules.\n"
        "Similarly, a small value will lead to a large set of rules\n"
        "with similar weights.\n"
        "\n"
        "A final point is the model used; rules and/or linear terms.\n"
        "For a given training sample, the result may improve by adding\n"
        "linear terms. If best performance is obtained using only linear\n"
        "terms, it is very likely that the Fisher discriminant would be\n"
        "a better choice. Ideally the fitting procedure should be able to\n"
        "make this choice by giving appropriate weights for either terms.\n"
        "\n"
        "--- Performance tuning via configuration options:\n"
        "\n"
        "I.  TUNING OF RULE ENSEMBLE:\n"
        "\n"
        '   ForestType  : Recommended is to use the default "AdaBoost".\n'
        "   nTrees      : More trees leads to more rules but also slow\n"
        "                 performance. With too few trees the risk is\n"
        "                 that the rule ensemble becomes too simple.\n"
        "   fEventsMin  \n"
        "   fEventsMax  : With a lower min, more large trees will be generated\n"
        "                 leading to more complex rules.\n"
        "                 With a higher max, more small trees will be\n"
        "                 generated leading to more simple rules.\n"
        "                 By changing this range, the average complexity\n"
        "                 of the rule ensemble can be controlled.\n"
        "   RuleMinDist : By increasing the minimum distance between\n"
        "                 rules, fewer and more diverse rules will remain.\n"
        "                 Initially it is a good idea to keep this small\n"
        "                 or zero and let the fitting do the selection of\n"
        "                 rules. In order to reduce the ensemble size,\n"
        "                 the value can then be increased.\n"
        "\n"
        "II. TUNING OF THE FITTING:\n"
        "\n"
        "   GDPathEveFrac : fraction of events in path evaluation\n"
        "                 Increasing this fraction will improve the path\n"
        "                 finding. However, a too high value will give few\n"
        "                 unique events available for error estimation.\n"
        "                 It is recommended to use the default = 0.5.\n"
        "   GDTau         : cutoff parameter tau\n"
        "                 By default this value is set to -1.0.\n"
        "                 This means that the cut off parameter is\n"
        "                 automatically estimated. In most cases\n"
        "                 this should be fine. However, you may want\n"
        "                 to fix this value if you already know it\n"
        "                 and want to reduce on training time.\n"
        "   GDTauPrec     : precision of estimated tau\n"
        "                 Increase this precision to find a more\n"
        "                 optimum cut-off parameter.\n"
        "   GDNStep       : number of steps in path search\n"
        "                 If the number of steps is too small, then\n"
        "                 the program will give a warning message.\n"
        "\n"
        "III. WARNING MESSAGES\n"
        "\n"
        "Risk(i+1)>=Risk(i) in path\n"
        "Chaotic behaviour of risk evolution.\n"
        "                 The error rate was still decreasing at the end\n"
        "                 By construction the Risk should always decrease.\n"
        "                 However, if the training sample is too small or\n"
        "                 the model is overtrained, such warnings can\n"
        "                 occur.\n"
        "                 The warnings can safely be ignored if only a\n"
        "                 few (<3) occur. If more warnings are generated,\n"
        "                 the fitting fails.\n"
        "                 A remedy may be to increase the value\n"
        "                 GDValidEveFrac to 1.0 (or a larger value).\n"
        "                 In addition, if GDPathEveFrac is too high\n"
        "                 the same warnings may occur since the events\n"
        "                 used for error estimation are also used for\n"
        "                 path estimation.\n"
        "                 Another possibility is to modify the model - \n"
        "                 See above on tuning the rule ensemble.\n"
        "\n"
        "The error rate was still decreasing at the end of the path\n"
        "                 Too few steps in path! Increase GDNSteps.\n"
        "\n"
        "Reached minimum early in the search\n"
        "                 Minimum was found early in the fitting. This\n"
        "                 may indicate that the used step size GDStep.\n"
        "                 was too large. Reduce it and rerun.\n"
        "                 If the results still are not OK, modify the\n"
        "                 model either by modifying the rule ensemble\n"
        "                 or add/remove linear terms"
    )

    def __init__(self, title: str, context: MethodContext, options: str = "", **kwargs: Any) -> None:
        super().__init__(title, context, options, **kwargs)
        o = self._opts()
        if o.IgnoreNegWeightsInTraining:
            raise OptionError(
                f"method RuleFit ('{title}'): the mechanism to ignore events with negative weights in training "
                'is not available for method RuleFit (as in TMVA); remove "IgnoreNegWeightsInTraining" from '
                "the booking string"
            )
        if o.RuleFitModule == "RFFriedman":
            raise OptionError(
                f"method RuleFit ('{title}'): RuleFitModule=RFFriedman runs J. Friedman's external rf_go.exe "
                "program, which pymva does not run; use RuleFitModule=RFTMVA (the default)"
            )
        if o.GDNSteps < 1:
            raise OptionError(f"method RuleFit ('{title}'): GDNSteps={o.GDNSteps}; it must be at least 1")
        self.ensemble_: RuleEnsemble | None = None
        self.n_rules_generated_ = 0
        self.gd_tau_: float | None = None

    def _opts(self) -> RuleFitOptions:
        assert isinstance(self.options, RuleFitOptions)
        return self.options

    # ------------------------------------------------------------------ options
    def _settings(self) -> _Settings:
        """``MethodRuleFit::ProcessOptions``: the range checks (``VerifyRange``) of TMVA."""
        o, log = self._opts(), self.log
        n_trees = int(_verify_range(log, "nTrees", o.nTrees, 0, 100000, 20))
        min_imp = _verify_range(log, "MinImp", o.MinImp, 0.0, 1.0, 0.0)
        tau_prec = _verify_range(log, "GDTauPrec", o.GDTauPrec, 1e-5, 5e-1)
        step = _verify_range(log, "GDPathStep", o.GDStep, 0.0, 100.0, 0.01)
        err_scale = _verify_range(log, "GDErrScale", o.GDErrScale, 1.0, 100.0, 1.1)
        path_frac = _verify_range(log, "GDPathEveFrac", o.GDPathEveFrac, 0.01, 0.9, 0.5)
        valid_frac = _verify_range(
            log, "GDValidEveFrac", o.GDValidEveFrac, 0.01, 1.0 - path_frac, 1.0 - path_frac
        )
        min_frac = _verify_range(log, "fEventsMin", o.fEventsMin, 0.0, 1.0)
        max_frac = _verify_range(log, "fEventsMax", o.fEventsMax, min_frac, 1.0)
        gd = GDSettings(
            tau=o.GDTau,
            tau_prec=tau_prec,
            step=step,
            n_steps=o.GDNSteps,
            err_scale=err_scale,
            path_frac=path_frac,
            valid_frac=valid_frac,
        )
        return _Settings(
            n_trees=n_trees,
            min_imp=min_imp,
            min_frac=min_frac,
            max_frac=max_frac,
            use_boost=o.ForestType == "AdaBoost",
            rule_min_dist=o.RuleMinDist,
            lin_quantile=o.LinQuantile,
            model=LEARNING_MODELS[o.Model],
            gd=gd,
        )

    # ------------------------------------------------------------------ training
    def _make_forest(self, st: _Settings, X: F32, w: F64, is_sig: BoolA) -> list[DecisionTree]:
        """``RuleFit::MakeForest`` (see the module docstring)."""
        n = len(X)
        frac = 1.0 if st.use_boost else min(0.5, (100.0 + 6.0 * math.sqrt(n)) / n)
        n_tree_sample = int(n * frac)
        order = np.random.default_rng(_TRANDOM3_DEFAULT_SEED).permutation(n)
        shuffler = np.random.default_rng(_TRANDOM3_DEFAULT_SEED + 1)
        rnd = TRandom3(_TRANDOM3_DEFAULT_SEED)
        XT = np.ascontiguousarray(X.T, dtype=np.float64)
        ints = tuple(v.type == "I" for v in self.context.variables)
        boost = np.ones(n)
        forest: list[DecisionTree] = []
        n_grown = 0
        cache = GrowthCache()  # the float32 columns the numba kernels read, made once
        for _ in range(st.n_trees):
            if not st.use_boost:
                order = shuffler.permutation(n)
            sample = order[:n_tree_sample]
            tree = None
            for _try in range(10):
                # TRandom::Uniform(a, b) = a + (b - a)·Rndm(); DecisionTree takes it as a Float_t
                frnd = float(
                    np.float32(100.0 * (st.min_frac + (0.5 * st.max_frac - st.min_frac) * rnd.rndm()))
                )
                cfg = TreeConfig(
                    sep_index=SEPARATION_INDEX["giniindex"],
                    n_cuts=20,
                    min_node_size=frnd,
                    max_depth=9999999,
                    randomised=not st.use_boost,
                    seed=n_grown + 1,
                    integer_vars=ints,
                )
                n_grown += 1
                candidate = grow_tree(cfg, X, XT, is_sig, w * boost, sample, cache=cache)
                if candidate.n_nodes >= 3:
                    tree = candidate
                    break
            if tree is None:
                self.log.warning(
                    "Failed growing a tree even after 10 trials; possible solutions: increase the number of "
                    "training events, set a lower min fraction cut (fEventsMin), maybe also decrease the max "
                    "fraction cut (fEventsMax)"
                )
                continue
            forest.append(tree)
            if st.use_boost:
                cur = w * boost
                correct = (tree.node_type[tree.apply(X)] > 0.5) == is_sig
                sumw = float(cur.sum())
                err = float(cur[~correct].sum()) / sumw
                bw = (1.0 - err) / err if err > 0 else 1000.0
                boost = np.where(correct, boost, boost * bw)
                boost *= sumw / float((w * boost).sum())
        return forest

    def _train(self, sample: Sample) -> None:
        st = self._settings()
        X = np.ascontiguousarray(sample.X, dtype=np.float32)
        w = np.asarray(sample.weights, dtype=np.float64)
        cls = np.asarray(sample.class_id, dtype=np.intp)
        is_sig = cls == self.context.signal_class
        n, nvar = X.shape
        if n < 2:
            raise ModelError(f"method {self.method_name}: RuleFit needs at least 2 training events, got {n}")
        neff = float(w.sum())
        ens = RuleEnsemble(
            learning_model=st.model,
            n_variables=nvar,
            importance_cut=st.min_imp,
            lin_quantile=st.lin_quantile,
        )
        n_trees = 0
        if ens.do_rules:
            forest = self._make_forest(st, X, w, is_sig)
            n_trees = len(forest)
            rules = [r for tree in forest for r in make_rules(tree)]
            cut_rule, sel, cmin, cmax, domin, domax = [], [], [], [], [], []
            for k, (s, lo, hi, dlo, dhi) in enumerate(rules):
                cut_rule += [k] * len(s)
                sel += s
                cmin += lo
                cmax += hi
                domin += dlo
                domax += dhi
            ens.cut_rule = np.array(cut_rule, dtype=np.intp)
            ens.cut_selector = np.array(sel, dtype=np.intp)
            ens.cut_min = np.array(cmin, dtype=np.float64)
            ens.cut_max = np.array(cmax, dtype=np.float64)
            ens.cut_do_min = np.array(domin, dtype=bool)
            ens.cut_do_max = np.array(domax, dtype=bool)
            ens.coefficient = np.zeros(len(rules))
            self.n_rules_generated_ = len(rules)
            remove_similar_rules(ens, _weighted_rms(X, w), st.rule_min_dist, TRandom3(_TRANDOM3_DEFAULT_SEED))
        if ens.do_linear:
            ens.lin_dm, ens.lin_dp, ens.lin_norm = _linear_terms(X, w, cls, st.lin_quantile, 0.4)
            ens.lin_coefficient = np.zeros(nvar)
            ens.lin_ok = np.ones(nvar, dtype=bool)
            ens.lin_importance = np.zeros(nvar)
        R = ens.rule_matrix(X) if ens.do_rules else np.zeros((n, 0), dtype=bool)
        # CalcRuleSupport
        ens.average_rule_sigma, ens.average_support = 0.4, 0.8
        if ens.n_rules:
            Rf = R.astype(np.float64)
            supp = (w @ Rf) / neff
            ssig = w[is_sig] @ Rf[is_sig]
            sbkg = w[~is_sig] @ Rf[~is_sig]
            ssum = ssig + sbkg
            t = np.sqrt(np.maximum(supp * (1.0 - supp), 0.0))
            ens.support = supp
            ens.sigma = t
            ens.norm = np.where(t > 0, 1.0 / np.where(t > 0, t, 1.0), 1.0)
            ens.ssb = np.where(ssum > 0, ssig / np.where(ssum > 0, ssum, 1.0), 0.0)
            ens.ssb_neve = ssum
            ens.average_support = float(supp.sum() / ens.n_rules)
            ens.average_rule_sigma = math.sqrt(ens.average_support * (1.0 - ens.average_support))
        self.log.info("-------------------RULE ENSEMBLE SUMMARY------------------------")
        self.log.info("Tree training method               : %s", "AdaBoost" if st.use_boost else "Random")
        self.log.info("Number of trees                    : %d", n_trees)
        self.log.info("Number of generated rules          : %d", self.n_rules_generated_)
        self.log.info("Idem, after cleanup                : %d", ens.n_rules)
        if ens.n_rules:
            ncuts = np.add.reduceat(
                ens.cut_do_min.astype(int) + ens.cut_do_max.astype(int), ens.rule_cut_slices()[:-1]
            )
            self.log.info("Average number of cuts per rule    : %8.2f", float(np.mean(ncuts)))
            self.log.info(
                "Spread in number of cuts per rules : %8.2f",
                float(np.std(ncuts, ddof=1)) if ens.n_rules > 1 else 0.0,
            )
        # the fit
        L = ens.linear_values(X) if ens.do_linear else np.zeros((n, 0))
        y = np.where(is_sig, 1.0, -1.0)
        self.log.info("GD path scan - the scan stops when the max num. of steps is reached or a min is found")
        try:
            res = make_gd_path(R, L, ens.lin_norm, y, w, st.gd, self.log)
        except ValueError as exc:
            raise ModelError(f"method {self.method_name}: {exc}") from None
        ens.offset = res.offset
        ens.coefficient = res.coefficients
        ens.lin_coefficient = res.lin_coefficients
        self.gd_tau_ = res.tau
        # CalcImportance, CleanupRules, CleanupLinear, CalcVarImportance
        ens.calc_importance()
        removed = ens.cleanup()
        self.log.info(
            "Removed %d out of a total of %d rules with importance < %g",
            removed,
            ens.n_rules + removed,
            ens.importance_cut,
        )
        ens.calc_var_importance()
        self.ensemble_ = ens
        self._print_model()

    def _print_model(self) -> None:
        ens = self.ensemble_
        assert ens is not None
        labels = [v.label for v in self.context.variables]
        self.log.info("================================================================")
        self.log.info("                          M o d e l                             ")
        self.log.info("================================================================")
        self.log.info("Offset (a0) = %g", ens.offset)
        if ens.do_linear and ens.n_linear:
            self.log.info("Linear model (weights unnormalised)")
            for j, lab in enumerate(labels):
                rel = (
                    ens.lin_importance[j] / ens.importance_ref_ensemble
                    if ens.importance_ref_ensemble
                    else 0.0
                )
                if ens.lin_ok[j]:
                    self.log.info(
                        "%8s :  %10.3e :  %3.3f", lab, ens.lin_coefficient[j] * ens.lin_norm[j], rel
                    )
                else:
                    self.log.info("%8s : -> importance below threshold =  %3.3f", lab, rel)
        if ens.do_rules:
            self.log.info("Number of rules = %d", ens.n_rules)
            top = np.argsort(-ens.importance, kind="stable")[:10]
            starts = ens.rule_cut_slices()
            for p, k in enumerate(top):
                self.log.info(
                    "Rule %4d : Importance  = %1.4f", p + 1, ens.importance[k] / ens.importance_ref[k]
                )
                for c in range(starts[k], starts[k + 1]):
                    lo = f"{ens.cut_min[c]:10.3g} < " if ens.cut_do_min[c] else " " * 13
                    hi = f" < {ens.cut_max[c]:10.3g}" if ens.cut_do_max[c] else ""
                    self.log.info(
                        "            Cut %2d : %s%s%s", c - starts[k] + 1, lo, labels[ens.cut_selector[c]], hi
                    )
        self.log.info("================================================================")

    # ------------------------------------------------------------------ application
    def _predict(self, X: F32) -> F32:
        self.check_trained()
        if self.ensemble_ is None:
            raise ModelError(f"method {self.method_name}: no rule ensemble (train or read a weights file)")
        value = self.ensemble_.evaluate(X).astype(np.float32)
        out = np.empty((len(value), self.context.n_classes), dtype=np.float32)
        out[:] = (-value)[:, None]
        out[:, self.context.signal_class] = value
        return out

    def mva_event_function(self) -> Callable[[list[float]], float] | None:
        """Per-event ``F(x)`` (the Reader's loop), as :meth:`_predict` gives it for one event."""
        self.check_trained()
        ens = self.ensemble_
        if ens is None:
            return None

        def rulefit_event(x: list[float]) -> float:
            return float(np.float32(ens.evaluate(np.array([x], dtype=np.float32))[0]))

        return rulefit_event

    # ------------------------------------------------------------------ persistence
    def add_weights_xml(self, parent: ET.Element) -> None:
        """TMVA's ``<Weights NRules NLinear …>`` with ``<Rule>``/``<Cut>`` and ``<Linear>`` children."""
        if self.ensemble_ is None:
            raise ModelError(f"method {self.method_name}: nothing to write, the method is not trained")
        self.ensemble_.to_xml(parent)

    def read_weights_xml(self, weights: ET.Element | None) -> None:
        """Read the rule ensemble back (``RuleEnsemble::ReadFromXML``)."""
        where = f"weights file of method {self.method_name}"
        if weights is None:
            raise ModelError(f"{where}: no <Weights> element")
        self.ensemble_ = RuleEnsemble.from_xml(weights, self.context.n_variables, where)
        super().read_weights_xml(weights)

    def ranking(self) -> list[tuple[str, float]] | None:
        """ "Importance": the variable importance (``CalcVarImportance``), best first (training only)."""
        ens = self.ensemble_
        if ens is None or len(ens.var_importance) != self.context.n_variables:
            return None
        labels = [v.label for v in self.context.variables]
        return list(Ranking.from_values(labels, ens.var_importance, self.ranking_criterion).entries)

    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        """Classification with 2 classes (as TMVA's)."""
        return analysis_type == EAnalysisType.kClassification and n_classes == 2
