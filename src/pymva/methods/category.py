"""``Category`` (``Types.kCategory``): one sub-method per category of events (TMVA's
``tmva/tmva/src/MethodCategory.cxx``, ``inc/TMVA/MethodCategory.h``).

A Category method is booked like any method and then given its sub-methods::

    cat = factory.BookMethod(loader, TMVA.Types.kCategory, "FisherCat", "")
    cat.AddMethod("abs(eta)<=1.3", "var1:var2:var3:var4", TMVA.Types.kFisher, "Category_Fisher_1", "!H:Fisher")
    cat.AddMethod("abs(eta)>1.3", "var1:var2:var3", TMVA.Types.kFisher, "Category_Fisher_2", "!H:Fisher")

As TMVA does it:

* ``AddMethod(cut, variables, method, title, options)`` books the sub-method on its own variable list
  (``CreateCategoryDSI``): ``variables`` is a colon-separated list of *labels* of the loader's
  variables or spectators (a spectator may be an input of a sub-method); an empty list means all the
  variables.  The sub-method sees the loader's spectators, targets and classes.  ``AddMethod`` returns
  the sub-method.
* The cut is a ``TTreeFormula`` over the variables and spectators (named by their expressions, or
  labels); an event is in a category when the cut's value is above 0.5.  pymva evaluates it with its
  expression engine (:mod:`pymva.data.expression`) on whole columns at once.
* Training: every sub-method is trained on the training events in its category (at least 10, else an
  error, TMVA's FATAL), then each prints its variable ranking; the Category itself has no ranking.  A
  sub-method that cannot do the analysis type is dropped with TMVA's warning.
* Response (``GetMvaValue``, ``GetRegressionValues``): that of the sub-method whose category holds the
  event, on the event's values of that sub-method's variables; 0 for an event in no category (with
  TMVA's warning "Event does not lie within the cut of any sub-classifier."); an event in more than
  one category is an error ("The defined categories are not disjoint.").
* Weights file: ``<Weights NSubMethods="n">`` holds one ``<SubMethod Index Method="<Type>::<Title>"
  Cut Variables>`` per sub-method, and inside it the sub-method's whole state (``GeneralInfo``,
  ``Options``, ``Variables``, …, ``Weights``), as a weights file of its own holds it.  The state is
  written and read by :mod:`pymva.io.weights`, which hands the re-created sub-methods over with
  :meth:`MethodCategory.set_sub_methods`.

The method reads the spectators (:attr:`MethodCategory.uses_spectators`): wherever it is applied it
receives one array of ``n_variables + n_spectators`` columns, the variables then the spectators.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import awkward as ak
import numpy as np
import numpy.typing as npt

from ..data.dataset import Sample, VariableInfo
from ..data.expression import parse_formula
from ..errors import DataError, ModelError, NotTrainedError, OptionError, did_you_mean
from ..types import EMVA, EAnalysisType
from .base import BaseMethodOptions, MethodBase, MethodContext
from .ranking import Ranking, log_ranking
from .registry import get_method_class, register_method

__all__ = ["CategoryCut", "CategoryOptions", "MethodCategory", "variable_map"]

F32 = npt.NDArray[np.float32]

#: Fewest training events a category needs (TMVA ``MethodCategory::Train``'s ``MinNoTrainingEvents``).
MIN_TRAINING_EVENTS = 10


@dataclass(frozen=True)
class CategoryOptions(BaseMethodOptions):
    """Options of Category: the base options only (TMVA's ``DeclareOptions`` declares none)."""


def _cut_text(cut: object) -> str:
    """The text of a cut given as a string, pymva's ``TCut`` or anything with ``GetTitle()``."""
    if isinstance(cut, str):
        return str(cut).strip()
    title = getattr(cut, "GetTitle", None)
    if callable(title):
        return str(title()).strip()
    raise OptionError(
        f"AddMethod(cut, …): the cut must be a string or a TCut such as 'abs(eta)<=1.3', got "
        f"{type(cut).__name__} {cut!r}"
    )


def variable_map(variables: str, columns: Sequence[VariableInfo], n_variables: int) -> tuple[int, ...]:
    """The columns a sub-method reads (TMVA ``MethodCategory::CreateCategoryDSI``'s ``varMap``).

    Parameters
    ----------
    variables : str
        Colon-separated labels (``"var1:var2:eta"``); empty for all the variables.
    columns : sequence of VariableInfo
        The primary method's variables, then its spectators.
    n_variables : int
        How many of ``columns`` are variables.

    Returns
    -------
    tuple of int
        Indices into ``columns``, in the order the labels are given.

    Raises
    ------
    OptionError
        For a label that is neither a variable's nor a spectator's (listing the labels).
    """
    names = [t.strip() for t in str(variables).split(":") if t.strip()]
    if not names:
        return tuple(range(n_variables))
    labels = [c.label for c in columns]
    out: list[int] = []
    for name in names:
        found = [i for i, label in enumerate(labels) if label == name]
        if not found:
            raise OptionError(
                f"The variable {name} was not found and could not be added{did_you_mean(name, labels)} "
                f"The variables and spectators (by label): {labels}"
            )
        out += found
    return tuple(out)


class CategoryCut:
    """A category's cut, bound to the columns (variables then spectators) of the primary method.

    Parameters
    ----------
    text : str
        The cut in ROOT's ``TTreeFormula`` syntax (``"abs(eta)<=1.3"``).
    columns : sequence of VariableInfo
        The variables, then the spectators; the cut names them by expression, label or internal name.

    Raises
    ------
    OptionError
        For an empty cut, text that does not parse, or a name that is none of the columns.
    """

    def __init__(self, text: str, columns: Sequence[VariableInfo]) -> None:
        self.text = str(text)
        if not self.text.strip():
            raise OptionError(
                "AddMethod: the category cut is empty; give a cut over the variables and spectators, e.g. "
                "'abs(eta)<=1.3'"
            )
        try:
            self._formula = parse_formula(self.text)
        except DataError as exc:
            raise OptionError(f'the category cut "{self.text}" is not a valid TTreeFormula: {exc}') from None
        index: dict[str, int] = {}
        known = [c.expression for c in columns]
        for name in sorted(self._formula.branches):
            match = next(
                (
                    i
                    for key in ("expression", "label", "internal_name")
                    for i, c in enumerate(columns)
                    if getattr(c, key) == name
                ),
                None,
            )
            if match is None:
                raise OptionError(
                    f'the category cut "{self.text}" reads "{name}", which is neither a variable nor a spectator'
                    f"{did_you_mean(name, known)} The cut can read: {known}; declare other inputs with "
                    "dataloader.AddSpectator(...)"
                )
            index[name] = match
        self._index = index

    def passes(self, values: F32) -> npt.NDArray[np.bool_]:
        """Which events are in the category (the cut's value above 0.5, TMVA ``PassesCut``).

        Parameters
        ----------
        values : ndarray of float32, shape (n_events, n_columns)
            The variables, then the spectators.

        Returns
        -------
        ndarray of bool, shape (n_events,)
        """
        n = len(values)
        arrays = {name: values[:, i].astype(np.float64) for name, i in self._index.items()}
        if not arrays:  # a constant cut
            arrays = {"__category_n": np.zeros(n)}
        value = self._formula.evaluate(arrays)
        layout = value.layout
        if isinstance(layout, ak.contents.NumpyArray):  # one number per event, none missing
            result = np.asarray(layout.data)
        else:  # missing instances read as 0, as a TTreeFormula without instances
            result = ak.to_numpy(ak.fill_none(value, 0.0))
        if result.ndim != 1:
            raise DataError(f'the category cut "{self.text}" gives more than one value per event')
        return np.asarray(result > 0.5, dtype=bool)

    def __repr__(self) -> str:
        return f"CategoryCut({self.text!r})"


@register_method
class MethodCategory(MethodBase):
    """TMVA's Category method: a sub-method per category of events (see the module docstring).

    Attributes
    ----------
    sub_methods : list of MethodBase
        The sub-methods, in the order they were added.
    cuts : list of str
        Their categories' cuts.
    variable_lists : list of str
        Their variable lists as given to :meth:`AddMethod`.
    """

    method_type = EMVA.kCategory
    Options = CategoryOptions
    help_text: ClassVar[str] = (
        "--- Short description:\n"
        "\n"
        "This method allows to define different categories of events. The\n"
        "categories are defined via cuts on the variables. For each\n"
        "category, a different classifier and set of variables can be\n"
        "specified. The categories which are defined for this method must\n"
        "be disjoint."
    )

    def __init__(self, title: str, context: MethodContext, options: str = "", **kwargs: Any) -> None:
        super().__init__(title, context, options, **kwargs)
        self.sub_methods: list[MethodBase] = []
        self.cuts: list[str] = []
        self.variable_lists: list[str] = []
        self._maps: list[tuple[int, ...]] = []
        self._cuts: list[CategoryCut] = []
        #: from a weights file: (Method, Cut, Variables) of each <SubMethod>, until set_sub_methods
        self._pending: list[tuple[str, str, str]] = []

    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        """Classification (2 classes) and regression; the sub-methods are checked when trained."""
        if analysis_type == EAnalysisType.kClassification:
            return n_classes == 2
        return analysis_type == EAnalysisType.kRegression

    def setup(self) -> None:
        """Refuse a ``VarTransform`` of the Category itself: each sub-method has its own.

        Raises
        ------
        OptionError
            For a ``VarTransform`` other than ``None``.
        """
        spec = self.options.VarTransform.strip()
        if spec and spec.lower() not in ("none", "i", "ident", "identity"):
            raise OptionError(
                f"method {self.method_name}: VarTransform={spec} on a Category method is not supported; give "
                "each sub-method its own VarTransform in AddMethod(..., options)"
            )

    @property
    def uses_spectators(self) -> bool:
        """Whether the method reads the spectators (its cuts and sub-methods may): when there are any."""
        return bool(self.context.spectators)

    def _columns(self) -> tuple[VariableInfo, ...]:
        return tuple(self.context.variables) + tuple(self.context.spectators)

    def _sub_context(self, var_map: Sequence[int]) -> MethodContext:
        columns = self._columns()
        variables = tuple(dataclasses.replace(columns[i], kind="variable") for i in var_map)
        return dataclasses.replace(self.context, variables=variables)

    # ------------------------------------------------------------------ booking
    def AddMethod(
        self,
        theCut: object,
        theVariables: str,
        theMethod: EMVA | int | str,
        theTitle: str,
        theOptions: str = "",
        **kwargs: Any,
    ) -> MethodBase:
        """Book a sub-method on a category (TMVA ``MethodCategory::AddMethod``).

        Parameters
        ----------
        theCut : str or TCut
            The category: a cut over the variables and spectators (``"abs(eta)<=1.3"``).
        theVariables : str
            The sub-method's input variables, colon-separated labels of variables or spectators
            (``"var1:var2:var3"``); empty for all the variables.
        theMethod : Types member, int or str
            The sub-method's type (``TMVA.Types.kFisher``).
        theTitle : str
            The sub-method's title.
        theOptions : str
            The sub-method's option string.
        **kwargs
            Options as keyword arguments.

        Returns
        -------
        MethodBase
            The booked sub-method.

        Raises
        ------
        OptionError
            For an unknown method type, a label that names no variable or spectator, a cut that does
            not parse or reads something else, a title already used in this Category, and the
            sub-method's own option errors.
        """
        cls = get_method_class(theMethod)
        title = str(theTitle)
        if not title.strip():
            raise OptionError("AddMethod(…, theTitle, …): the sub-method needs a title")
        if title in [m.title for m in self.sub_methods]:
            raise OptionError(
                f"method {self.method_name}: a sub-method titled {title} exists already; choose another title"
            )
        if cls is MethodCategory or cls.method_type == EMVA.kCrossValidation:
            raise OptionError(
                f"method {self.method_name}: a {cls.method_type.type_name} method cannot be a sub-method"
            )
        self.log.info("Adding sub-classifier: %s::%s", cls.method_type.type_name, title)
        cut = _cut_text(theCut)
        var_map = variable_map(theVariables, self._columns(), self.context.n_variables)
        compiled = CategoryCut(cut, self._columns())
        method = cls(title, self._sub_context(var_map), theOptions, **kwargs)
        method.setup()
        self.sub_methods.append(method)
        self.cuts.append(cut)
        self.variable_lists.append(str(theVariables))
        self._maps.append(var_map)
        self._cuts.append(compiled)
        return method

    # ------------------------------------------------------------------ training
    def _train(self, sample: Sample) -> None:
        at = self.context.analysis_type
        kind = "Regression" if at == EAnalysisType.kRegression else "Classification"
        self.log.info("Train all sub-classifiers for %s ...", kind)
        if not self.sub_methods:
            self.log.info("...nothing found to train")
            return
        full = self._full(sample.X, sample.spectators)
        kept = []
        for k, method in enumerate(self.sub_methods):
            # the DataSet knows the training ranges now: the sub-method's variables take them
            method.context = dataclasses.replace(
                self._sub_context(self._maps[k]),
                draw_progress_bar=method.context.draw_progress_bar,
                verbose=method.context.verbose,
            )
            ctx = method.context
            if not type(method).has_analysis_type(at, ctx.n_classes, ctx.n_targets):
                what = (
                    f"regression with {ctx.n_targets} targets."
                    if at == EAnalysisType.kRegression
                    else f"classification with {ctx.n_classes} classes."
                )
                self.log.warning(
                    "Method %s is not capable of handling %s", method.method_type.type_name, what
                )
                continue
            kept.append(k)
        self._keep(kept)
        for k, method in enumerate(self.sub_methods):
            mask = self._cuts[k].passes(full)
            n = int(mask.sum())
            if n < MIN_TRAINING_EVENTS:
                raise ModelError(
                    f"Method {method.method_name} not trained (training tree has less entries [{n}] than "
                    f'required [{MIN_TRAINING_EVENTS}]): the category "{self.cuts[k]}" of {self.method_name} '
                    "holds too few training events; w/o training/test events for that category TMVA stops here"
                )
            self.log.info("Train method: %s for %s", method.title, kind)
            sub = sample.subset(mask)
            method.train(sub.replace(X=np.ascontiguousarray(full[mask][:, list(self._maps[k])])))
            self.log.info("Training finished")
        if at != EAnalysisType.kRegression:
            self.log.info("Begin ranking of input variables...")
            for method in self.sub_methods:
                ranking = method.ranking()
                if ranking:
                    log_ranking(method.log, Ranking(method.ranking_criterion, tuple(ranking)))
                else:
                    self.log.info("No variable ranking supplied by classifier: %s", method.title)

    def _keep(self, indices: Sequence[int]) -> None:
        for name in ("sub_methods", "cuts", "variable_lists", "_maps", "_cuts"):
            values = getattr(self, name)
            setattr(self, name, [values[i] for i in indices])

    def _predict(self, X: F32) -> F32:  # pragma: no cover - raw_outputs is overridden
        raise ModelError(f"method {self.method_name}: evaluated through its sub-methods")

    # ------------------------------------------------------------------ application
    def _full(self, X: npt.ArrayLike, spectators: npt.ArrayLike | None = None) -> F32:
        """The variables then the spectators as one float32 array, checked."""
        A = np.ascontiguousarray(X, dtype=np.float32)
        if spectators is not None:
            A = np.ascontiguousarray(np.hstack([A, np.asarray(spectators, dtype=np.float32)]))
        n_cols = self.context.n_variables + len(self.context.spectators)
        if A.ndim != 2 or A.shape[1] != n_cols:
            raise ModelError(
                f"method {self.method_name}: expected an array of shape (n_events, {n_cols}) (the variables then "
                f"the spectators), got {A.shape}"
            )
        return A

    def category_of(self, values: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """The sub-method that scores each event (TMVA ``GetMvaValue``'s choice), −1 for none.

        Parameters
        ----------
        values : array_like, shape (n_events, n_variables + n_spectators)
            The variables, then the spectators.

        Returns
        -------
        ndarray of int64, shape (n_events,)
            Index into :attr:`sub_methods`; −1 for an event in no category (logged as a warning).

        Raises
        ------
        ModelError
            When an event lies in more than one category (TMVA's FATAL "The defined categories are not
            disjoint."), or for an array of the wrong shape.
        """
        full = self._full(values)
        n = len(full)
        count = np.zeros(n, np.int64)
        which = np.full(n, -1, np.int64)
        for k, cut in enumerate(self._cuts):
            mask = cut.passes(full)
            count += mask
            which[mask] = k
        several = count > 1
        if several.any():
            first = int(np.flatnonzero(several)[0])
            raise ModelError(
                f"method {self.method_name}: The defined categories are not disjoint: {int(several.sum())} of {n} "
                f"events pass more than one of the cuts {self.cuts} (the first is event {first})"
            )
        none = int((count == 0).sum())
        if none and self.sub_methods:
            self.log.warning(
                "Event does not lie within the cut of any sub-classifier. (%d of %d events; their response is 0)",
                none,
                n,
            )
        return which

    def _combine(self, X: F32, apply: Callable[[MethodBase, F32], F32], row_shape: tuple[int, ...]) -> F32:
        self.check_trained()
        full = self._full(X)
        result = np.zeros((len(full), *row_shape), np.float32)
        if not self.sub_methods:
            return result
        which = self.category_of(full)
        for k, method in enumerate(self.sub_methods):
            idx = np.flatnonzero(which == k)
            if idx.size == 0:
                continue
            inputs = np.ascontiguousarray(full[np.ix_(idx, np.asarray(self._maps[k], dtype=np.intp))])
            result[idx] = np.asarray(apply(method, inputs), dtype=np.float32).reshape(len(idx), *row_shape)
        return result

    def _eval_shape(self) -> tuple[int, ...]:
        if self.context.analysis_type == EAnalysisType.kClassification:
            return ()
        return (self.context.n_outputs,)

    def raw_outputs(self, X: F32) -> F32:
        """The sub-methods' raw outputs, each event by its category's (zeros for no category)."""
        return self._combine(X, lambda m, x: m.raw_outputs(x), (self.context.n_outputs,))

    def evaluate(self, X: F32) -> F32:
        """Responses as the Factory stores them, each event by the sub-method of its category.

        Parameters
        ----------
        X : ndarray of float32, shape (n_events, n_variables + n_spectators)
            The variables, then the spectators.

        Returns
        -------
        ndarray of float32
            Classification: shape (n_events,); regression: shape (n_events, n_targets).  0 for an
            event in no category.

        Raises
        ------
        NotTrainedError
            Before training (or reading the weights file).
        ModelError
            For input of the wrong shape, or an event in more than one category.
        """
        return self._combine(X, lambda m, x: m.evaluate(x), self._eval_shape())

    def mva_value(self, X: F32) -> F32:
        """TMVA's ``GetMvaValue``: the MVA value of each event's sub-method (0 in no category)."""
        return self._combine(X, lambda m, x: m.mva_value(x), ())

    # ------------------------------------------------------------------ persistence
    def add_weights_xml(self, parent: ET.Element) -> None:
        """``NSubMethods`` and one ``<SubMethod Index Method Cut Variables>`` per sub-method.

        The sub-methods' own state is added inside each ``<SubMethod>`` by the weights-file writer
        (:func:`pymva.io.weights.build_weights_xml`).
        """
        parent.set("NSubMethods", str(len(self.sub_methods)))
        for i, method in enumerate(self.sub_methods):
            ET.SubElement(
                parent,
                "SubMethod",
                {
                    "Index": str(i),
                    "Method": method.method_name,
                    "Cut": self.cuts[i],
                    "Variables": self.variable_lists[i],
                },
            )

    def read_weights_xml(self, weights: ET.Element | None) -> None:
        """Read the sub-methods' categories (TMVA ``MethodCategory::ReadWeightsFromXML``).

        The sub-methods themselves are re-created by the weights-file loader and attached with
        :meth:`set_sub_methods`.

        Raises
        ------
        ModelError
            For a missing ``<Weights>``, an ``NSubMethods`` that is not the number of ``<SubMethod>``
            elements, a ``<SubMethod>`` without ``Method``/``Cut``/``Variables``, a variable list or a
            cut that the file's variables and spectators cannot satisfy.
        """
        what = f"method {self.method_name}"
        expected = (
            'expected <Weights NSubMethods="n"> with n <SubMethod Index="i" Method="<Type>::<Title>" Cut="…" '
            'Variables="…"> elements'
        )
        if weights is None:
            raise ModelError(f"{what}: the weights file has no <Weights> element; {expected}")
        text = weights.get("NSubMethods", "")
        try:
            n_sub = int(text)
        except ValueError:
            raise ModelError(
                f'{what}: <Weights NSubMethods="{text}"> is not an integer; {expected}'
            ) from None
        elems = weights.findall("SubMethod")
        if n_sub != len(elems):
            raise ModelError(f"{what}: NSubMethods={n_sub} but {len(elems)} <SubMethod> elements; {expected}")
        pending = []
        maps, cuts = [], []
        for elem in elems:
            missing = [a for a in ("Method", "Cut", "Variables") if a not in elem.attrib]
            if missing:
                raise ModelError(f"{what}: a <SubMethod> lacks the attributes {missing}; {expected}")
            name, cut, variables = elem.attrib["Method"], elem.attrib["Cut"], elem.attrib["Variables"]
            try:
                maps.append(variable_map(variables, self._columns(), self.context.n_variables))
                cuts.append(CategoryCut(cut, self._columns()))
            except OptionError as exc:
                raise ModelError(f"{what}: sub-method {name}: {exc}") from exc
            pending.append((name, cut, variables))
        self._pending = pending
        self._maps = maps
        self._cuts = cuts
        self.cuts = [p[1] for p in pending]
        self.variable_lists = [p[2] for p in pending]
        self.sub_methods = []

    def set_sub_methods(self, methods: Sequence[MethodBase], source: str = "") -> None:
        """Attach the sub-methods re-created from the ``<SubMethod>`` elements, in their order.

        Raises
        ------
        ModelError
            When their number, type or title differs from the ``<SubMethod>`` attributes, or a
            sub-method's variables are not those its variable list selects.
        """
        where = f" ('{source}')" if source else ""
        if len(methods) != len(self._pending):
            raise ModelError(
                f"method {self.method_name}{where}: {len(methods)} sub-methods for {len(self._pending)} <SubMethod>"
            )
        columns = self._columns()
        for k, (m, (name, _cut, variables)) in enumerate(zip(methods, self._pending, strict=True)):
            mtype, _, mtitle = name.partition("::")
            what = f"method {self.method_name}{where}: sub-method {k} ({m.method_name})"
            if (
                m.method_type.type_name.lower() != mtype.strip().rsplit(" ", 1)[-1].lower()
                or m.title != mtitle
            ):
                raise ModelError(f'{what} does not match its <SubMethod Method="{name}">')
            mine = [columns[i].expression for i in self._maps[k]]
            theirs = [v.expression for v in m.context.variables]
            if mine != theirs:
                raise ModelError(
                    f'{what} has the variables {theirs}; its <SubMethod Variables="{variables}"> selects {mine}'
                )
        self.sub_methods = list(methods)
        self._trained = True

    def check_trained(self) -> None:
        """Raise :class:`NotTrainedError` before training or before the sub-methods are attached."""
        if not self._trained:
            raise NotTrainedError(
                f"method {self.method_name} has not been trained yet; call TrainAllMethods()"
            )

    def ranking(self) -> list[tuple[str, float]] | None:
        """None: the Category has no ranking of its own (its sub-methods print theirs in training)."""
        return None
