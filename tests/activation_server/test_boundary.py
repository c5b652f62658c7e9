"""The domain/API boundary: every response schema that mirrors a domain dataclass agrees with it.

Responses are validated from the engine's and the store's dataclasses (`from_attributes`), so a
field added, renamed or retyped on one side only would be dropped, fail at run time, or send a
null the UI does not expect. This test finds the pairs itself: each pydantic schema of
`activation_server.schemas` and the dataclass of the same name in `activations` or `datasets`,
plus the pairs whose names differ (or whose dataclass lives elsewhere), declared once in
`RENAMED`. Both sides must have the
same fields (after camelCase aliasing), and their types must agree where the test can tell: a
list on one side is a list on the other, a nullable dataclass field is nullable on the wire, and
nested dataclasses map to the schema they pair with.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import pkgutil
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pydantic
import pytest
from pydantic.alias_generators import to_camel

from neuron_explainer.activation_server import schemas
from neuron_explainer.activations.alignment import Alignment
from neuron_explainer.activations.attribution import AttributionResult
from neuron_explainer.activations.nodes import Node
from neuron_explainer.activations.tables import NodeSides, Sides
from neuron_explainer.activations.vocab import TokenLogit
from neuron_explainer.models.config import TransformerConfig

DOMAIN_PACKAGES = ("neuron_explainer.activations", "neuron_explainer.datasets")
SAME_NAME_PAIRS = 21  # 11 of the engine, 10 of the store's records; a new pair raises it


@dataclass(frozen=True)
class Renamed:
    """A dataclass (or a generic dataclass with its type arguments) that a schema of another
    name is validated from. `unsent`: dataclass fields the wire leaves out on purpose; the
    schema's other fields that the dataclass lacks must be properties of it."""

    domain: Any
    schema: type[pydantic.BaseModel]
    unsent: frozenset[str] = frozenset()


# The one list of pairs whose names differ.
RENAMED = (
    Renamed(Node, schemas.NodeOut),
    Renamed(NodeSides, schemas.NodeValueSides),
    Renamed(AttributionResult, schemas.DebuggerResult),
    Renamed(Alignment, schemas.TokenAlignment, frozenset({"left_length", "right_length"})),
    Renamed(Sides[list[int]], schemas.IdSides, frozenset({"diff"})),
    Renamed(Sides[list[str]], schemas.StringSides, frozenset({"diff"})),
    Renamed(Sides[list[TokenLogit]], schemas.LogitSides, frozenset({"diff"})),
    Renamed(Sides[float], schemas.FloatSides),
    Renamed(Sides[list[float]], schemas.FloatListSides),
    Renamed(TransformerConfig, schemas.ModelConfig),
)


def schema_classes() -> dict[str, type[pydantic.BaseModel]]:
    """Every pydantic model defined in the schemas package, by name."""
    found: dict[str, type[pydantic.BaseModel]] = {}
    for info in pkgutil.iter_modules(schemas.__path__):
        module = importlib.import_module(f"{schemas.__name__}.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, pydantic.BaseModel)
                and value.__module__ == module.__name__
            ):
                found[value.__name__] = value
    return found


def domain_dataclasses() -> dict[str, list[type]]:
    """Every dataclass defined in the domain packages, by name (a list: names may repeat)."""
    found: dict[str, list[type]] = {}
    for package_name in DOMAIN_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            module = importlib.import_module(info.name)
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and dataclasses.is_dataclass(value)
                    and value.__module__ == module.__name__
                ):
                    found.setdefault(value.__name__, []).append(value)
    return found


@dataclass(frozen=True)
class Pair:
    domain: Any  # a dataclass, or a generic dataclass with its type arguments
    schema: type[pydantic.BaseModel]
    unsent: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return f"{_name(self.domain)} -> {self.schema.__name__}"


def _name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is None:
        return str(getattr(tp, "__name__", tp))
    return f"{_name(origin)}[{', '.join(_name(a) for a in get_args(tp))}]"


def find_pairs() -> list[Pair]:
    dataclasses_by_name = domain_dataclasses()
    renamed_schemas = {r.schema for r in RENAMED}
    pairs = []
    for name, schema in sorted(schema_classes().items()):
        candidates = dataclasses_by_name.get(name, [])
        if not candidates or schema in renamed_schemas:
            continue
        assert len(candidates) == 1, (
            f"Schema {name} has several dataclasses of its name "
            f"({', '.join(c.__module__ for c in candidates)}); declare which one in RENAMED"
        )
        pairs.append(Pair(candidates[0], schema))
    return pairs


PAIRS = find_pairs()
ALL_PAIRS = PAIRS + [Pair(r.domain, r.schema, r.unsent) for r in RENAMED]


# The shape of a type, as far as the test can tell: ("seq", item), ("map", key, value),
# ("class", the class or generic alias), ("scalar", type), ("literal", values), or
# ("other", the type) where it cannot tell. With whether None is allowed.
@dataclass(frozen=True)
class Shape:
    kind: str
    args: tuple[Any, ...]
    nullable: bool


def shape_of(tp: Any) -> Shape:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(tp) if a is not type(None)]
        nullable = len(members) < len(get_args(tp))
        if len(members) == 1:
            inner = shape_of(members[0])
            return Shape(inner.kind, inner.args, inner.nullable or nullable)
        return Shape("other", (tp,), nullable)
    if origin is Literal:
        return Shape("literal", (frozenset(get_args(tp)),), None in get_args(tp))
    if origin in (list, tuple, Sequence) or tp in (list, tuple):
        args = [a for a in get_args(tp) if a is not Ellipsis]
        return Shape("seq", (args[0] if args else Any,), False)
    if origin in (dict, Mapping):
        key, value = get_args(tp)
        return Shape("map", (key, value), False)
    if tp in (int, float, str, bool):
        return Shape("scalar", (tp,), False)
    if isinstance(origin, type) and dataclasses.is_dataclass(origin):
        return Shape("class", (tp,), False)
    if isinstance(tp, type) and (
        dataclasses.is_dataclass(tp) or issubclass(tp, pydantic.BaseModel)
    ):
        return Shape("class", (tp,), False)
    return Shape("other", (tp,), False)


def disagreements(domain_type: Any, schema_type: Any, where: str) -> Iterator[str]:
    """What is wrong with sending a value of `domain_type` as `schema_type` (nothing: agree)."""
    d, s = shape_of(domain_type), shape_of(schema_type)
    if d.nullable and not s.nullable:
        yield f"{where}: the dataclass allows None but the schema does not"
    if s.nullable and not d.nullable and not (d.kind == "scalar" and d.args[0] is float):
        # Only floats become null on the wire (NaN, `schemas.base.Num`).
        yield f"{where}: the schema allows null but the dataclass never holds None"
    if "other" in (d.kind, s.kind):
        return  # the test cannot tell
    if d.kind != s.kind:
        yield f"{where}: the dataclass holds a {d.kind} but the schema a {s.kind}"
    elif d.kind == "seq":
        yield from disagreements(d.args[0], s.args[0], f"{where}[]")
    elif d.kind == "map":
        yield from disagreements(d.args[0], s.args[0], f"{where} (key)")
        yield from disagreements(d.args[1], s.args[1], f"{where}{{}}")
    elif d.kind == "scalar":
        if d.args[0] != s.args[0] and (d.args[0], s.args[0]) != (int, float):
            yield f"{where}: {d.args[0].__name__} sent as {s.args[0].__name__}"
    elif d.kind == "literal":
        if not d.args[0] <= s.args[0]:
            yield f"{where}: values {sorted(map(str, d.args[0] - s.args[0]))} not in the schema"
    elif d.kind == "class":
        paired = {p.domain: p.schema for p in ALL_PAIRS}
        expected = paired.get(d.args[0])
        if expected is not s.args[0]:
            yield (
                f"{where}: {_name(d.args[0])} is sent as {_name(s.args[0])}, which it does not "
                f"pair with ({_name(expected) if expected else 'no schema'}); declare the pair "
                "in RENAMED or use its schema"
            )


def domain_fields(domain: Any) -> dict[str, Any]:
    """The dataclass's fields and their types, type arguments of a generic substituted."""
    origin = get_origin(domain) or domain
    hints = typing.get_type_hints(origin)
    substitute = dict(zip(getattr(origin, "__parameters__", ()), get_args(domain), strict=False))
    return {
        f.name: substitute.get(hints[f.name], _substituted(hints[f.name], substitute))
        for f in dataclasses.fields(origin)
    }


def _substituted(tp: Any, substitute: Mapping[Any, Any]) -> Any:
    if not substitute or not get_args(tp):
        return substitute.get(tp, tp) if substitute else tp
    args = tuple(_substituted(a, substitute) for a in get_args(tp))
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return Union[args]  # noqa: UP007 (built from a tuple)
    return origin[args] if origin is not None else tp


def property_type(domain: Any, name: str) -> Any | None:
    """The return type of the dataclass's property `name`, or None if it has none."""
    origin = get_origin(domain) or domain
    prop = getattr(origin, name, None)
    if not isinstance(prop, property) or prop.fget is None:
        return None
    return typing.get_type_hints(prop.fget).get("return", Any)


def pair_problems(pair: Pair) -> list[str]:
    fields = domain_fields(pair.domain)
    sent = {to_camel(name): name for name in fields if name not in pair.unsent}
    wire = {
        info.alias or name: (name, info.annotation)
        for name, info in pair.schema.model_fields.items()
    }
    problems = [
        f"{pair.name}: dataclass field {sent[alias]} ({alias}) is not in the schema"
        for alias in sorted(set(sent) - set(wire))
    ]
    for alias, (name, annotation) in sorted(wire.items()):
        if alias in sent:
            domain_type = fields[sent[alias]]
        else:
            domain_type = property_type(pair.domain, name)
            if domain_type is None:
                problems.append(f"{pair.name}: schema field {alias} has no field in the dataclass")
                continue
        problems += disagreements(domain_type, annotation, f"{pair.name}.{alias}")
    return problems


def test_same_name_pairs_are_found() -> None:
    names = sorted(p.schema.__name__ for p in PAIRS)
    assert len(PAIRS) == SAME_NAME_PAIRS, names


@pytest.mark.parametrize("pair", ALL_PAIRS, ids=lambda p: p.name)
def test_fields_agree(pair: Pair) -> None:
    assert pair_problems(pair) == []


def test_a_field_on_one_side_is_found() -> None:
    """The check fails for a field added to either side (the pair's other checks pass above)."""

    @dataclass(frozen=True)
    class LensToken:
        token: int
        string: str
        logit: float
        probability: float
        rank: int  # not in the schema

    class Wider(schemas.LensToken):
        extra: list[int]  # not in the dataclass

    narrow, wide = Pair(LensToken, schemas.LensToken), Pair(LensToken, Wider)
    assert pair_problems(narrow) == [
        "LensToken -> LensToken: dataclass field rank (rank) is not in the schema"
    ]
    assert "LensToken -> Wider: schema field extra has no field in the dataclass" in (
        pair_problems(wide)
    )


def test_types_are_compared() -> None:
    assert list(disagreements(list[int], int, "x")) == [
        "x: the dataclass holds a seq but the schema a scalar"
    ]
    assert list(disagreements(float | None, list[float], "x")) == [
        "x: the dataclass allows None but the schema does not",
        "x: the dataclass holds a scalar but the schema a seq",
    ]
    assert list(disagreements(int, int | None, "x")) == [
        "x: the schema allows null but the dataclass never holds None"
    ]
    assert list(disagreements(float, schemas.base.Num, "x")) == []  # NaN is sent as null


def test_schemas_package_lists_each_name_once() -> None:
    """`schemas/__init__.py` names each schema once (an explicit re-export, no `__all__` that
    repeats the imports), and every schema of its modules is importable from it."""
    tree = ast.parse(Path(schemas.__file__).read_text())
    listed: list[str] = []
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom):
            listed += [alias.asname or alias.name for alias in statement.names]
        elif isinstance(statement, ast.Assign | ast.AnnAssign):
            value = statement.value
            if isinstance(value, ast.List | ast.Tuple):
                listed += [
                    e.value
                    for e in value.elts
                    if isinstance(e, ast.Constant) and isinstance(e.value, str)
                ]
    repeated = sorted({name for name in listed if listed.count(name) > 1})
    assert repeated == []
    missing = sorted(set(schema_classes()) - {"Schema", "RequestSchema"} - set(listed))
    assert missing == []


def test_no_response_is_built_from_a_dict_literal() -> None:
    """Responses are validated from typed objects or built by keyword, never from a dict
    literal, whose keys no type checker reads (found in the code's syntax, across lines)."""
    package = Path(schemas.__file__).parents[2]
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("model_validate", "model_construct")
                and any(isinstance(a, ast.Dict | ast.DictComp) for a in node.args)
            ):
                found.append(f"{path.relative_to(package.parent)}:{node.lineno}")
    assert found == []
