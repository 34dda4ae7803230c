"""Import hygiene, checked by machine on the source text (``ast``; nothing heavy is imported).

* **No private imports across modules.** No module imports a name starting with ``_`` from another
  module, and no module outside package ``P`` imports a private module ``P._x`` (inside ``P``, its
  subpackages included, is fine). Dunder names (``__version__``) are public.
* **No import cycles.** The graph has one node per cxlens module and one edge per import statement,
  module-level *and* inside functions (a function-level import only postpones a cycle, it does not
  remove it) and under ``TYPE_CHECKING``. ``from P import name`` is an edge to ``P.name`` when that is
  a module, else to ``P`` itself (a package ``__init__`` has edges to the modules it re-exports from).

Files map to module names through pyproject's ``package-dir`` (``nlp/x.py`` -> ``cxlens.nlp.x``).
``tests/`` and ``benchmarks/`` are not scanned, nor imports by name at run time (``importlib.import_module``
of ``COMMAND_MODULES``, of the KPI modules, the lazy ``cxlens.__getattr__``). Known violations that need
edits in files owned elsewhere are allow-listed below with a reason; the tests fail on any *new* violation
and on any allow-listed entry that has been fixed (so the list only shrinks).
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[1]

# (importer, private module or module.name it imports) -> why it is still there. Each needs an edit in a
# file owned elsewhere; remove the entry with that edit (the test fails once an entry is no longer found).
ALLOWED_PRIVATE_IMPORTS: dict[tuple[str, str], str] = {
}

# One strongly connected set of modules -> why it is still there (same rule: the list only shrinks).
ALLOWED_CYCLES: dict[frozenset[str], str] = {
}


class Import(NamedTuple):
    importer: str  # module doing the import
    module: str  # the module named in the statement (resolved when relative)
    name: str | None  # ``from module import name``; None for ``import module``
    line: int


@cache
def package_dirs() -> dict[str, Path]:
    """``{import name: folder}`` from pyproject's ``[tool.setuptools] package-dir``."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    return {name: REPO / folder for name, folder in config["package-dir"].items()}


def module_name(path: Path) -> str:
    """The import name of a source file, from the deepest package-dir entry that holds it."""
    best = max((d for d in package_dirs().items() if path.is_relative_to(d[1])), key=lambda d: len(d[1].parts))
    parts = list(path.relative_to(best[1]).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([best[0], *parts])


@cache
def modules() -> dict[str, Path]:
    """Every cxlens module: ``{module name: file}``."""
    found: dict[str, Path] = {}
    for folder in package_dirs().values():
        for path in sorted(folder.rglob("*.py")):
            if "__pycache__" in path.parts or not (path.parent / "__init__.py").is_file():
                continue  # only files inside packages (skips stray scripts under artifacts/)
            found.setdefault(module_name(path), path)
    return found


def is_package(name: str) -> bool:
    return modules()[name].name == "__init__.py"


def _resolve_relative(importer: str, module: str | None, level: int) -> str:
    base = importer.split(".") if is_package(importer) else importer.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def imports_of(name: str) -> Iterator[Import]:
    """Every import statement in a module's source, at any depth."""
    tree = ast.parse(modules()[name].read_text(), filename=str(modules()[name]))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(name, alias.name, None, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            module = _resolve_relative(name, node.module, node.level) if node.level else node.module
            for alias in node.names:
                yield Import(name, module, alias.name, node.lineno)


@cache
def all_imports() -> tuple[Import, ...]:
    return tuple(imp for name in modules() for imp in imports_of(name))


def target(imp: Import) -> str | None:
    """The cxlens module an import statement makes its module depend on (None: not ours)."""
    if imp.name is not None and f"{imp.module}.{imp.name}" in modules():
        return f"{imp.module}.{imp.name}"
    return imp.module if imp.module in modules() else None


def _private_package(module: str) -> str | None:
    """For ``P._x[.more]``, the package ``P`` that ``_x`` is private to; None for a public module."""
    parts = module.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


def private_import_violations() -> dict[tuple[str, str], str]:
    """``{(importer, what it imports): file:line}`` for every cross-module private import."""
    found: dict[tuple[str, str], str] = {}
    for imp in all_imports():
        where = f"{modules()[imp.importer].relative_to(REPO)}:{imp.line}"
        dep = target(imp)
        if dep is None:
            continue
        owner = _private_package(dep)
        if owner is not None and imp.importer != owner and not imp.importer.startswith(owner + "."):
            found[(imp.importer, dep)] = where
        elif imp.name is not None and dep == imp.module and dep != imp.importer \
                and imp.name.startswith("_") and not imp.name.startswith("__"):
            found[(imp.importer, f"{dep}.{imp.name}")] = where
    return found


@cache
def import_graph() -> dict[str, frozenset[str]]:
    edges: dict[str, set[str]] = {name: set() for name in modules()}
    for imp in all_imports():
        dep = target(imp)
        if dep is not None and dep != imp.importer:
            edges[imp.importer].add(dep)
    return {name: frozenset(deps) for name, deps in edges.items()}


def strongly_connected(graph: dict[str, frozenset[str]]) -> list[frozenset[str]]:
    """Tarjan's algorithm (iterative); only the components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def a_cycle(component: frozenset[str], graph: dict[str, frozenset[str]]) -> list[str]:
    """One shortest cycle through the alphabetically first module of a component (for messages)."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & component):
            if child == start:
                return paths[node] + [start]
            if child not in paths:
                paths[child] = paths[node] + [child]
                queue.append(child)
    return [start]  # pragma: no cover - a component always closes


def edge_lines(a: str, b: str) -> str:
    lines = sorted({imp.line for imp in all_imports() if imp.importer == a and target(imp) == b})
    return f"{modules()[a].relative_to(REPO)}:{','.join(map(str, lines))}"


def describe_cycle(component: frozenset[str]) -> str:
    cycle = a_cycle(component, import_graph())
    steps = ", ".join(edge_lines(a, b) for a, b in zip(cycle, cycle[1:]))
    return f"{' -> '.join(cycle)}  [{len(component)} modules; {steps}]"


# ---------------------------------------------------------------------------------------------- tests


def test_imports_every_module_is_found():
    names = modules()
    assert {"cxlens", "cxlens.cli", "cxlens.nlp", "cxlens.metrics", "cxlens.pipelines", "cxlens.models"} <= set(names)
    assert module_name(REPO / "nlp" / "encoders" / "_encoders.py") == "cxlens.nlp.encoders._encoders"
    assert module_name(REPO / "cxlens" / "cli" / "__init__.py") == "cxlens.cli"


def test_imports_cycle_finder_finds_a_planted_cycle():
    graph = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset({"a"})}
    assert strongly_connected(graph) == [frozenset({"a", "b", "c"})]
    assert a_cycle(frozenset({"a", "b", "c"}), graph) == ["a", "b", "c", "a"]


def test_imports_no_private_imports_across_modules():
    found = private_import_violations()
    new = {key: where for key, where in found.items() if key not in ALLOWED_PRIVATE_IMPORTS}
    assert not new, "private imports across modules (give the helper a public name where it belongs, and import " \
        "another package's names from that package):\n" + \
        "\n".join(f"  {where}: {a} imports {b}" for (a, b), where in sorted(new.items(), key=lambda kv: kv[1]))
    fixed = set(ALLOWED_PRIVATE_IMPORTS) - set(found)
    assert not fixed, f"fixed, remove from ALLOWED_PRIVATE_IMPORTS: {sorted(fixed)}"


def test_imports_no_cycles():
    found = strongly_connected(import_graph())
    new = [c for c in found if c not in ALLOWED_CYCLES]
    assert not new, f"{len(new)} import cycle(s) (function-level imports included):\n" + \
        "\n".join(f"  {describe_cycle(c)}" for c in sorted(new, key=min))
    fixed = [sorted(c) for c in ALLOWED_CYCLES if c not in found]
    assert not fixed, f"these allow-listed cycles changed or are gone, update ALLOWED_CYCLES: {fixed}"


if __name__ == "__main__":  # python tests/test_imports.py: print every violation
    for (a, b), where in sorted(private_import_violations().items(), key=lambda kv: kv[1]):
        print(f"private  {where}: {a} imports {b}")
    for component in sorted(strongly_connected(import_graph()), key=min):
        print(f"cycle    {describe_cycle(component)}")
        print(f"         members: {sorted(component)}")
