"""The package layout of docs/architecture.md holds: no import circles, data flows one way.

The import graph is read from the sources with :mod:`ast` (every ``import`` and ``from … import``,
also those inside functions and under ``TYPE_CHECKING``), so a circle through a lazy import counts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "pymva"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _resolve(importer: str, is_package: bool, level: int, module: str | None) -> str:
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def import_graph() -> dict[str, set[str]]:
    """Module → the pymva modules it imports (a package import counts as importing its __init__)."""
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = (
                    _resolve(name, is_package, node.level, node.module) if node.level else (node.module or "")
                )
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            for t in targets:
                if t in modules and t != name:
                    graph[name].add(t)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _strip_parents(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Drop the edge from a module to its own parent package: importing ``pymva.io.output.writer``
    runs ``pymva.io.output/__init__`` first, which re-exports it; that is not a circle of concepts."""
    return {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in graph.items()}


def test_the_import_graph_has_no_circles() -> None:
    assert _cycles(_strip_parents(import_graph())) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


#: Layers in data-flow order; a module may import only from its own layer or an earlier one.
LAYERS = [
    ("basics", ["pymva._version", "pymva.errors", "pymva.types", "pymva.options", "pymva.logger",
                "pymva.tcut", "pymva.safety", "pymva.histograms", "pymva._blas", "pymva._html", "pymva.extras",
                "pymva.stl", "pymva.config", "pymva.ddp"]),
    ("data", ["pymva.data"]),
    ("transforms", ["pymva.transforms"]),
    ("methods", ["pymva.methods", "pymva.pytorch"]),
    ("evaluation", ["pymva.evaluation"]),
    ("io", ["pymva.io"]),
    ("plotting", ["pymva.plotting"]),
    ("face", ["pymva.factory", "pymva.reader", "pymva.tmva", "pymva.toydata", "pymva.envelope", "pymva.cli",
              "pymva.__main__", "pymva", "pymva.export"]),
]  # fmt: skip


def _layer(module: str) -> int:
    best, rank = -1, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best:
                best, rank = len(p), i
    return rank


def test_every_module_has_a_layer() -> None:
    assert [m for m in _modules() if _layer(m) < 0] == []


@pytest.mark.parametrize("module", sorted(_modules()))
def test_data_flows_one_way(module: str) -> None:
    graph = import_graph()
    mine = _layer(module)
    later = sorted(t for t in graph[module] if _layer(t) > mine and not module.startswith(t + "."))
    assert later == [], f"{module} ({LAYERS[mine][0]}) imports later layers: {later}"


def test_methods_never_open_root_files() -> None:
    graph = import_graph()
    methods = [m for m in graph if m.startswith("pymva.methods")]
    offending = {
        m: sorted(t for t in graph[m] if t.startswith(("pymva.data.sources", "pymva.io"))) for m in methods
    }
    assert {m: t for m, t in offending.items() if t} == {}
    for m in methods:
        text = _modules()[m].read_text()
        assert "import uproot" not in text, m
