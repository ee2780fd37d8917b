"""Import layering is a contract: checked on the source (ast over ``lib/``), nothing imported.

ingest -> embed -> topics -> review -> report; pipeline and cli on top; config, io,
manifest, params at the bottom. Imports under ``if TYPE_CHECKING:`` are not counted (they
never run); imports inside functions are (they run when the function does).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "lib"
PACKAGE = "litreview"

#: Stage modules: everything a notebook calls. None of them may reach the runner or the CLI.
STAGE_PREFIXES = ("ingest", "embed", "two_stage", "topics", "review", "report", "plots",
                  "labels", "metrics", "export")
#: Later stages than ingest.
LATER_THAN_INGEST = ("embed", "two_stage", "topics", "review", "report", "plots.topics",
                     "plots.review", "labels", "metrics", "export")
#: Modules stage 03 (review, report) must not reach: it reads files only.
TOPIC_SIDE = ("topics", "embed", "two_stage")
BOTTOM = ("config", "io", "manifest", "params", "sanitize")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(LIB).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((LIB / PACKAGE).rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """Every litreview module ``module`` imports (resolved to modules that exist)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE and (target := resolve(alias.name)):
                    found.add(target)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            if base.split(".")[0] != PACKAGE:
                return
            for alias in node.names:
                full = f"{base}.{alias.name}"
                target = full if full in known else resolve(base)
                if target:
                    found.add(target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(module)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _short(module: str) -> str:
    return module.removeprefix(PACKAGE + ".")


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    short = _short(module)
    return any(short == p or short.startswith(p + ".") for p in prefixes)


GRAPH = _graph()


def test_the_graph_sees_the_package() -> None:
    # guards the test itself: a resolver that finds nothing would pass every rule below
    assert "litreview.pipeline" in GRAPH and "litreview.cli" in GRAPH
    assert "litreview.ingest.pipeline" in GRAPH["litreview.cli"] or "litreview.ingest" in (
        GRAPH["litreview.cli"]
    )
    assert "litreview.config" in GRAPH["litreview.io"]


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if _under(m, STAGE_PREFIXES)))
def test_no_stage_module_imports_the_runner_or_the_cli(module: str) -> None:
    bad = sorted(_short(t) for t in GRAPH[module] if _under(t, ("pipeline", "cli")))
    assert not bad, f"{_short(module)} imports {bad}: stages must not reach the runner"


def test_ingest_reaches_no_later_stage() -> None:
    bad = {_short(m): sorted(_short(t) for t in targets if _under(t, LATER_THAN_INGEST))
           for m, targets in GRAPH.items() if _under(m, ("ingest",))}
    assert not {m: t for m, t in bad.items() if t}


def test_review_and_report_read_files_only() -> None:
    bad = {_short(m): sorted(_short(t) for t in targets if _under(t, TOPIC_SIDE))
           for m, targets in GRAPH.items() if _under(m, ("review", "report", "plots.review"))}
    assert not {m: t for m, t in bad.items() if t}


def test_bottom_layer_imports_only_the_bottom_layer() -> None:
    bad = {_short(m): sorted(_short(t) for t in targets if not _under(t, BOTTOM)
                             and t != PACKAGE)
           for m, targets in GRAPH.items() if _under(m, BOTTOM)}
    assert not {m: t for m, t in bad.items() if t}


def test_report_imports_only_the_review_model() -> None:
    # the report renders a Review; it must not reach the stage that builds and writes it
    assert "litreview.review.model" in GRAPH["litreview.report.render"]
    bad = {_short(m): sorted(_short(t) for t in targets
                             if _under(t, ("review",)) and _short(t) != "review.model")
           for m, targets in GRAPH.items() if _under(m, ("report",))}
    assert not {m: t for m, t in bad.items() if t}
    model = sorted(_short(t) for t in GRAPH["litreview.review.model"] if _under(t, ("review",)))
    assert not model, f"review.model imports {model}: it is the bottom of the review package"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


#: Cycles known when this test was written, each with what would remove it. The test fails
#: on any other cycle, and on a listed one that is gone (then delete it here).
#: (The review <-> report cycle is gone: report.render imports only review.model, and
#: review.stage imports report.)
KNOWN_CYCLES: set[tuple[str, ...]] = set()


def test_no_import_cycles() -> None:
    # a package's __init__ importing its own submodules is not a cycle worth naming
    graph = {m: {t for t in targets if not m.startswith(t + ".")} for m, targets in GRAPH.items()}
    cycles = {tuple(_short(m) for m in c) for c in _cycles(graph)}
    assert not cycles - KNOWN_CYCLES, f"new import cycles: {sorted(cycles - KNOWN_CYCLES)}"
    assert not KNOWN_CYCLES - cycles, f"gone, delete from KNOWN_CYCLES: {KNOWN_CYCLES - cycles}"
