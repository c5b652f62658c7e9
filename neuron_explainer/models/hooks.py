"""Named hook sites: the places in the forward pass where a researcher can read or edit a tensor.

A `HookPoint` is a plain callable, not an `nn.Module`: with nothing attached, calling it is one
attribute check, so an idle hook site costs next to nothing.

Forward hooks see the activation and may return a replacement. Backward hooks are attached to the
activation tensors of the forward pass during which they were registered: they fire when that
pass's graph is differentiated (also after the `hooks(...)` block has exited), and never touch a
later forward pass.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from torch import Tensor

HookFn = Callable[[Tensor, "HookPoint"], Tensor | None]
NameFilter = str | Sequence[str] | Callable[[str], bool]
HookSpec = tuple[str | Callable[[str], bool], HookFn]


class HookPoint:
    """An identity function at a named site that runs the hooks attached to it."""

    __slots__ = ("bwd_fns", "fwd_fns", "name", "splice")

    def __init__(self, name: str) -> None:
        self.name = name
        self.fwd_fns: list[HookFn] = []
        self.bwd_fns: list[HookFn] = []
        # A persistent replacement of the activation (e.g. an autoencoder with its error term
        # added back), applied before any hook; it outlives calls, unlike hooks.
        self.splice: Callable[[Tensor], Tensor] | None = None

    def __repr__(self) -> str:
        return f"HookPoint({self.name!r})"

    def __call__(self, x: Tensor) -> Tensor:
        if self.splice is not None:
            x = self.splice(x)
        if not self.fwd_fns and not self.bwd_fns:
            return x
        for fn in self.fwd_fns:
            out = fn(x, self)
            if out is not None:
                if not isinstance(out, Tensor):
                    raise TypeError(
                        f"Forward hook on {self.name} returned {type(out).__name__}; "
                        "return a Tensor to replace the activation, or None to keep it"
                    )
                if out.shape != x.shape:
                    raise ValueError(
                        f"Forward hook on {self.name} returned shape {tuple(out.shape)}, "
                        f"expected {tuple(x.shape)}"
                    )
                x = out
        if self.bwd_fns and x.requires_grad:
            for fn in self.bwd_fns:
                x.register_hook(_backward_adapter(fn, self))
        return x


def is_active(point: HookPoint) -> bool:
    """Whether anything (a hook or a splice) acts at this site."""
    return bool(point.fwd_fns or point.bwd_fns or point.splice is not None)


def _backward_adapter(fn: HookFn, hook: HookPoint) -> Callable[[Tensor], Tensor | None]:
    def on_grad(grad: Tensor) -> Tensor | None:
        out = fn(grad, hook)
        if out is not None and out.shape != grad.shape:
            raise ValueError(
                f"Backward hook on {hook.name} returned shape {tuple(out.shape)}, "
                f"expected {tuple(grad.shape)}"
            )
        return out

    return on_grad


class HookRegistry:
    """All hook sites of a model by name, and request-scoped attachment of hooks to them."""

    def __init__(self) -> None:
        self._points: dict[str, HookPoint] = {}

    def add(self, point: HookPoint) -> HookPoint:
        if point.name in self._points:
            raise ValueError(f"Hook site {point.name!r} is already registered")
        self._points[point.name] = point
        return point

    def remove(self, name: str) -> None:
        self._points.pop(name)

    def __getitem__(self, name: str) -> HookPoint:
        return self._points[self._check_name(name)]

    def __contains__(self, name: object) -> bool:
        return name in self._points

    def __iter__(self) -> Iterator[str]:
        return iter(self._points)

    def __len__(self) -> int:
        return len(self._points)

    def names(self) -> list[str]:
        return list(self._points)

    def _check_name(self, name: str) -> str:
        if name not in self._points:
            close = difflib.get_close_matches(name, self._points, n=3, cutoff=0.6)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise KeyError(f"Unknown hook name {name!r}.{hint} List them with model.hook_names().")
        return name

    def resolve(self, names: NameFilter) -> list[HookPoint]:
        """Hook sites selected by one name, a list of names, or a predicate on names."""
        if isinstance(names, str):
            return [self._points[self._check_name(names)]]
        if callable(names):
            return [p for n, p in self._points.items() if names(n)]
        return [self._points[self._check_name(n)] for n in names]

    def any_attached(self) -> bool:
        return any(p.fwd_fns or p.bwd_fns for p in self._points.values())

    @contextmanager
    def attach(
        self, fwd_hooks: Sequence[HookSpec] = (), bwd_hooks: Sequence[HookSpec] = ()
    ) -> Iterator[None]:
        """Attach hooks for the duration of the block; they are removed on exit, also on errors."""
        added: list[tuple[list[HookFn], HookFn]] = []
        try:
            for specs, kind in ((fwd_hooks, "fwd"), (bwd_hooks, "bwd")):
                for spec in specs:
                    if not (isinstance(spec, tuple) and len(spec) == 2 and callable(spec[1])):
                        raise TypeError(
                            f"Each {kind} hook must be a (name_or_filter, fn) pair, got {spec!r}"
                        )
                    name, fn = spec
                    for point in self.resolve(name):
                        fns = point.fwd_fns if kind == "fwd" else point.bwd_fns
                        fns.append(fn)
                        added.append((fns, fn))
            yield
        finally:
            for fns, fn in reversed(added):
                # Remove by identity: the same function may be attached twice on purpose.
                for i in range(len(fns) - 1, -1, -1):
                    if fns[i] is fn:
                        del fns[i]
                        break
