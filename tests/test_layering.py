"""The package's layers, read from its own imports (every `import`, also inside functions and under
`TYPE_CHECKING`): no module imports one of a higher layer, no modules import each other in a
loop, only the command line imports the `commands` modules, and only entry points set
process-wide float settings."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "neuron_explainer"
# What each package may import, besides itself: the layers from the ground up, models (the
# transformer, autoencoders, tokenizers, token files); activations and training; datasets
# (collation, which needs no training code); the server; the command line.
MAY_IMPORT = {
    "models": set(),
    "activations": {"models"},
    "training": {"models"},
    "datasets": {"models", "activations"},
    "activation_server": {"models", "activations", "datasets", "training"},
    "cli": {"models", "activations", "datasets", "training", "activation_server"},
}
# Transformer's convenience methods (`from_pretrained`, `save_pretrained`, `generate`, documented
# in the README) import their modules inside the method; those modules import Transformer.
KNOWN_LOOPS = [
    {
        "neuron_explainer.models.generation",
        "neuron_explainer.models.loading",
        "neuron_explainer.models.transformer",
        "neuron_explainer.models.weight_processing",
    }
]
# Where the denormal setting is chosen: the command line and the server's model thread.
ENTRY_POINTS = {"neuron_explainer.cli", "neuron_explainer.activation_server.worker"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, ast.Module]:
    return {module_name(p): ast.parse(p.read_text()) for p in sorted(PACKAGE.rglob("*.py"))}


def imports(tree: ast.Module, known: set[str]) -> Iterator[str]:
    """The package's modules that `tree` imports (a name imported from a package that is itself
    a module counts as that module)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            names = [n if n in known else node.module for n in names]
        else:
            continue
        yield from (n for n in names if n in known)


def graph() -> dict[str, set[str]]:
    trees = modules()
    return {name: set(imports(tree, set(trees))) - {name} for name, tree in trees.items()}


def package(module: str) -> str | None:
    """The package a module belongs to (`cli` for the command line's module), None for the
    package's own `__init__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def loops(edges: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_no_module_imports_a_higher_layer() -> None:
    assert set(MAY_IMPORT) == {package(m) for m in graph()} - {None}
    upward = [
        f"{importer} -> {target}"
        for importer, imported in graph().items()
        for target in imported
        if (a := package(importer)) is not None
        and (b := package(target)) not in (None, a)
        and b not in MAY_IMPORT[a]
    ]
    assert upward == []


def test_no_import_loops() -> None:
    assert [c for c in loops(graph()) if c not in KNOWN_LOOPS] == []


def test_only_the_command_line_imports_commands_modules() -> None:
    importers = [
        f"{importer} -> {target}"
        for importer, imported in graph().items()
        for target in imported
        if target.endswith(".commands") and importer != "neuron_explainer.cli"
    ]
    assert importers == []


def test_only_entry_points_flush_denormals() -> None:
    setters = {
        name
        for name, tree in modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "set_flush_denormal"
    }
    assert setters == ENTRY_POINTS
