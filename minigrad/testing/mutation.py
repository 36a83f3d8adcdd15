"""Mutation score of the registry checks, without PyTorch.

    python -m minigrad.testing.mutation              # the full table (about a minute on one core)
    python -m minigrad.testing.mutation --smoke      # a handful of mutants: the machinery works
    python -m minigrad.testing.mutation --only Tanh MatMul --rules "abs(g)" --seed 3

Each mutant changes one thing, installs itself, runs the registry's checks
(:mod:`minigrad.testing.checks`: forward against the NumPy reference, gradcheck, gradient
properties) on the entries that use what it changed, and is *killed* by every check that then
fails.  PyTorch is hidden (``sys.modules['torch'] = None``): the score is what the suite knows
without it.  Mutants are made from rules, never from particular source lines, so they follow the
code as it changes:

========================= ==================================================================
``scale +1e-3``           every gradient a ``backward`` returns, times ``1 + 1e-3``
``scale -1e-3``           times ``1 - 1e-3``
``abs(g)``                ``backward`` receives ``abs(g)`` instead of the cotangent ``g``
``sign flip``             in the source of ``backward``: one ``a + b`` <-> ``a - b``, or one
                          product or quotient negated, or one unary minus removed
``dropped term``          one term of a sum or difference in ``backward`` left out
``transposed operand``    one operand of an ``@`` in ``backward`` transposed (when square),
                          or one ``.T`` removed
``off-by-one index``      in a kernel reference (``kernels/*.py``, ``*_ref``) that a registry
                          reference calls: one slice bound, ``range`` bound or index plus one
========================= ==================================================================

Source mutants (the last four) are AST edits of the function's source, recompiled in its
module's globals: by default one at every place a rule applies (``--sites N``: N of them per
function and rule, drawn with ``--seed``).  Samples are drawn from the registry with ``--seed``.  Every mutant runs beside the original: a mutant whose outputs
never differed from the original's on the samples is reported as *equivalent here* (not
reached, or no change on these inputs), not as a survivor.  The exit status is 1 when a mutant
that changed a result survived every check.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import inspect
import random
import sys
import textwrap
import time
from dataclasses import dataclass, field

import numpy as np

RUNTIME_RULES = ("scale +1e-3", "scale -1e-3", "abs(g)")
SOURCE_RULES = ("sign flip", "dropped term", "transposed operand")
REF_RULES = ("off-by-one index",)
RULES = RUNTIME_RULES + SOURCE_RULES + REF_RULES
KERNEL_MODULES = ("activation", "conv", "loss", "norm", "pool", "recurrent", "scatter", "winograd")


# ----------------------------------------------------------------------------- comparing results
def _leaves(value):
    """A backward's or a reference's result as a flat list of host arrays (None kept)."""
    from .. import backend
    from ..tensor import Tensor
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in _leaves(v)]
    if isinstance(value, Tensor):
        value = value._data
    if value is None:
        return [None]
    if backend.is_array(value):
        return [backend.to_device(value, backend.CPU)]
    return [np.asarray(value)]


def _same(a, b) -> bool:
    try:
        la, lb = _leaves(a), _leaves(b)
    except Exception:       # noqa: BLE001 -- a result we cannot read differs
        return False
    if len(la) != len(lb):
        return False
    for x, y in zip(la, lb):
        if (x is None) != (y is None):
            return False
        if x is not None and (x.shape != y.shape or not np.array_equal(x, y, equal_nan=x.dtype.kind in "fc")):
            return False
    return True


def _copies(args):
    from .. import backend
    return [a.copy() if backend.is_array(a) else a for a in args]


def _transposed(a):
    """``a`` with its last two axes swapped when they are equal (so the shape still fits)."""
    if getattr(a, "ndim", 0) >= 2 and a.shape[-1] == a.shape[-2]:
        return a.swapaxes(-1, -2) if hasattr(a, "swapaxes") else a.transpose(-1, -2)
    return a


def _scaled(value, factor):
    if isinstance(value, tuple):
        return tuple(_scaled(v, factor) for v in value)
    if isinstance(value, list):
        return [_scaled(v, factor) for v in value]
    return None if value is None else value * factor


# ----------------------------------------------------------------------------- source mutations
class _Sites(ast.NodeTransformer):
    """Counts the places ``rule`` applies in visiting order; with ``target`` set, mutates that one."""

    def __init__(self, rule, target=-1):
        self.rule, self.target, self.count, self.done = rule, target, 0, None

    def _candidate(self, node, make):
        """``make()`` returns the mutated node; called only for the targeted site."""
        k = self.count
        self.count += 1
        if k == self.target:
            self.done = ast.unparse(node)
            return make()
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        rule = self.rule
        if rule == "sign flip":
            if isinstance(node.op, (ast.Add, ast.Sub)):
                return self._candidate(node, lambda: ast.BinOp(node.left, ast.Sub() if isinstance(node.op, ast.Add)
                                                               else ast.Add(), node.right))
            if isinstance(node.op, (ast.Mult, ast.Div, ast.MatMult)):
                return self._candidate(node, lambda: ast.UnaryOp(ast.USub(), node))
        if rule == "dropped term" and isinstance(node.op, (ast.Add, ast.Sub)):
            kept = ["left", "right"] if isinstance(node.op, ast.Add) else ["left"]     # drop the other term
            return self._first([lambda side=side: getattr(node, side) for side in kept], node)
        if rule == "transposed operand" and isinstance(node.op, ast.MatMult):
            def transposing(side):
                operands = {"left": node.left, "right": node.right}
                operands[side] = ast.Call(ast.Name("__mutant_T__", ast.Load()), [operands[side]], [])
                return lambda: ast.BinOp(operands["left"], node.op, operands["right"])
            return self._first([transposing("left"), transposing("right")], node)
        return node

    def _first(self, makers, node):
        """Several candidate edits of one node: each counts as a site; at most one applies."""
        result = node
        for make in makers:
            mutated = self._candidate(node, make)
            if mutated is not node:
                result = mutated
        return result

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if self.rule == "sign flip" and isinstance(node.op, ast.USub):
            return self._candidate(node, lambda: node.operand)
        return node

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if self.rule == "transposed operand" and node.attr == "T" and isinstance(node.ctx, ast.Load):
            return self._candidate(node, lambda: node.value)
        return node

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if self.rule != "off-by-one index" or not isinstance(node.ctx, ast.Load):
            return node
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        for k, part in enumerate(parts):
            bounds = [b for b in ("lower", "upper") if getattr(part, b, None) is not None] \
                if isinstance(part, ast.Slice) else ([None] if isinstance(part, (ast.Name, ast.BinOp, ast.Constant))
                                                      and not isinstance(getattr(part, "value", 0), str) else [])
            for bound in bounds:
                def make(k=k, part=part, bound=bound):
                    plus_one = (lambda e: ast.BinOp(e, ast.Add(), ast.Constant(1)))
                    if bound is None:
                        new_part = plus_one(part)
                    else:
                        new_part = ast.Slice(part.lower, part.upper, part.step)
                        setattr(new_part, bound, plus_one(getattr(part, bound)))
                    new_parts = list(parts)
                    new_parts[k] = new_part
                    sl = ast.Tuple(new_parts, ast.Load()) if isinstance(node.slice, ast.Tuple) else new_part
                    return ast.Subscript(node.value, sl, node.ctx)
                mutated = self._candidate(node, make)
                if mutated is not node:
                    return mutated
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        if (self.rule == "off-by-one index" and isinstance(node.func, ast.Name) and node.func.id == "range"
                and 1 <= len(node.args) <= 2):
            stop = len(node.args) - 1
            return self._candidate(node, lambda: ast.Call(node.func, node.args[:stop] + [
                ast.BinOp(node.args[stop], ast.Add(), ast.Constant(1))] + node.args[stop + 1:], node.keywords))
        return node


def _parse(fn):
    if fn.__code__.co_freevars:         # a closure cannot be recompiled in its module's globals
        return None
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None
    tree.body[0].decorator_list = []
    return tree


def source_sites(fn, rule) -> int:
    tree = _parse(fn)
    if tree is None:
        return 0
    counter = _Sites(rule)
    counter.visit(tree)
    return counter.count


def mutate_source(fn, rule, site):
    """``fn`` recompiled with site number ``site`` of ``rule`` changed; (function, changed code)."""
    tree = _parse(fn)
    edit = _Sites(rule, site)
    tree = ast.fix_missing_locations(edit.visit(tree))
    namespace = dict(fn.__globals__, __mutant_T__=_transposed)
    exec(compile(tree, f"<mutant of {fn.__qualname__}: {rule} #{site}>", "exec"), namespace)  # noqa: S102
    return namespace[tree.body[0].name], edit.done


# ----------------------------------------------------------------------------- mutants
@dataclass
class Mutant:
    rule: str
    target: str                         # "Tanh.backward" or "kernels.pool.max_pool2d_ref"
    site: str = ""                      # the code changed, for source mutants
    entries: list = field(default_factory=list)
    changed: bool = False               # some result differed from the original's
    raised: bool = False                # the mutated code raised (a shape or type error, say)
    killed_by: list = field(default_factory=list)
    _install: object = None

    def dual(self, original, mutated):
        """Run both, keep the mutant's result, note whether it differed."""
        def run(*args):
            reference = original(*_copies(args))
            try:
                result = mutated(*_copies(args))
            except Exception:
                self.changed = self.raised = True       # killed by whichever check ran it, trivially
                raise
            if not self.changed and not _same(reference, result):
                self.changed = True
            return result
        return run

    @contextlib.contextmanager
    def installed(self):
        owner, name, wrap = self._install
        raw = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        fn = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
        new = wrap(fn)
        setattr(owner, name, type(raw)(new) if isinstance(raw, (staticmethod, classmethod)) else new)
        try:
            yield
        finally:
            setattr(owner, name, raw)


def _runtime(rule, fn):
    if rule == "abs(g)":
        return lambda ctx, *grads: fn(ctx, *[abs(g) if g is not None else g for g in grads])
    factor = 1 + 1e-3 if rule == "scale +1e-3" else 1 - 1e-3
    return lambda *args: _scaled(fn(*args), factor)


def backward_mutants(cls, rules, sites, seed):
    raw = cls.__dict__.get("backward")
    if raw is None:
        return []
    fn = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
    out = []
    for rule in rules:
        if rule in RUNTIME_RULES:
            m = Mutant(rule, f"{cls.__name__}.backward")
            m._install = (cls, "backward", lambda f, m=m, rule=rule: m.dual(f, _runtime(rule, f)))
            out.append(m)
        elif rule in SOURCE_RULES:
            out += _source_mutants(cls, "backward", fn, rule, sites, seed, f"{cls.__name__}.backward")
    return out


def _source_mutants(owner, name, fn, rule, sites, seed, target):
    n = source_sites(fn, rule)
    chosen = range(n) if not sites else sorted(random.Random(f"{seed}:{target}:{rule}").sample(range(n), min(sites, n)))
    out = []
    for site in chosen:
        m = Mutant(rule, target)
        mutated, m.site = mutate_source(fn, rule, site)
        m._install = (owner, name, lambda f, m=m, mutated=mutated: m.dual(f, mutated))
        out.append(m)
    return out


def reference_mutants(module, name, sites, seed):
    fn = getattr(module, name)
    return _source_mutants(module, name, fn, "off-by-one index", sites, seed,
                           f"kernels.{module.__name__.rsplit('.', 1)[-1]}.{name}")


# ----------------------------------------------------------------------------- what runs what
def _kernel_refs():
    found = []
    for short in KERNEL_MODULES:
        module = importlib.import_module(f"minigrad.kernels.{short}")
        for name, fn in vars(module).items():
            if name.endswith("_ref") and inspect.isfunction(fn) and fn.__module__ == module.__name__:
                found.append((module, name))
    return found


def survey(n_samples, seed):
    """Samples per entry (float64, seeded), the Function classes and kernel references each
    entry uses, and which checks pass unmutated (a failing baseline is left out)."""
    from ..autograd import Function
    from . import REGISTRY, RandomDrawer, checks
    from .harness import build_inputs, run_op
    samples, uses, refs_used = {}, {}, {}
    original_apply = Function.apply.__func__
    refs = _kernel_refs()
    for k, spec in enumerate(REGISTRY):
        if spec.needs_cuda:
            continue
        used, called = set(), set()

        def recording_apply(cls, *args, **kwargs):
            used.add(cls)
            return original_apply(cls, *args, **kwargs)
        samples[spec.name] = [spec.sample(RandomDrawer(10_000 * seed + 100 * k + s), np.float64) for s in range(n_samples)]
        Function.apply = classmethod(recording_apply)
        saved = [(module, name, getattr(module, name)) for module, name in refs]
        for module, name, fn in saved:
            setattr(module, name, (lambda fn, key: lambda *a, **kw: (called.add(key), fn(*a, **kw))[1])(fn, (module, name)))
        try:
            for sample in samples[spec.name]:
                args, kwargs = build_inputs(sample)
                run_op(spec, args, kwargs)
                checks.forward_matches_reference(spec, sample)
        finally:
            Function.apply = classmethod(original_apply)
            for module, name, fn in saved:
                setattr(module, name, fn)
        uses[spec.name], refs_used[spec.name] = used, called
    baseline = {}
    for spec in REGISTRY:
        for i, sample in enumerate(samples.get(spec.name, [])):
            for check_name, check in checks.CHECKS.items():
                try:
                    check(spec, sample)
                    baseline[spec.name, i, check_name] = True
                except Exception:       # noqa: BLE001
                    baseline[spec.name, i, check_name] = False
    return samples, uses, refs_used, baseline


def _entries_for(key, uses, max_entries):
    """The entries that use ``key``, most direct first (fewest other things used)."""
    users = [name for name, used in uses.items() if key in used]
    return sorted(users, key=lambda name: (len(uses[name]), name))[:max_entries]


def run_mutant(m, samples, baseline):
    from . import by_name, checks
    with m.installed():
        for check_name, check in checks.CHECKS.items():
            for name in m.entries:
                spec = by_name(name)
                done = False
                for i, sample in enumerate(samples[name]):
                    if not baseline[name, i, check_name]:
                        continue
                    try:
                        with np.errstate(all="ignore"):
                            check(spec, sample)
                    except Exception:       # noqa: BLE001 -- any failure of a check kills
                        m.killed_by.append(check_name)
                        done = True
                        break
                if done:
                    break
    return m


# ----------------------------------------------------------------------------- the table
def table(mutants, checks_names):
    rows = []
    header = (["rule", "mutants", "equivalent here"] + [f"killed by {c}" for c in checks_names]
              + ["killed", "of which raised", "survived"])
    for rule in RULES + ("all",):
        ms = [m for m in mutants if rule in ("all", m.rule)]
        if not ms:
            continue
        live = [m for m in ms if m.changed]
        rows.append([rule, len(ms), len(ms) - len(live)] + [sum(c in m.killed_by for m in live) for c in checks_names]
                    + [sum(bool(m.killed_by) for m in live), sum(m.raised for m in live),
                       sum(not m.killed_by for m in live)])
    widths = [max(len(str(r[k])) for r in rows + [header]) for k in range(len(header))]
    lines = ["| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(str(v).ljust(w) for v, w in zip(r, widths)) + " |" for r in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minigrad.testing.mutation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="draws the samples and the source sites")
    parser.add_argument("--samples", type=int, default=8, help="samples per registry entry")
    parser.add_argument("--sites", type=int, default=0, help="source mutants per function and rule (0: every site)")
    parser.add_argument("--entries", type=int, default=6, help="registry entries run per mutant (most direct first)")
    parser.add_argument("--only", nargs="*", help="Function classes (or kernel references) to mutate")
    parser.add_argument("--rules", nargs="*", choices=RULES, default=list(RULES))
    parser.add_argument("--smoke", action="store_true", help="Tanh, MatMul and one kernel reference, one sample")
    parser.add_argument("--verbose", action="store_true", help="print every mutant")
    args = parser.parse_args(argv)
    sys.modules["torch"] = None         # hidden: the score is what the suite knows without PyTorch
    if args.smoke:
        args.only, args.samples, args.sites = ["Tanh", "MatMul", "Sub", "max_pool2d_ref"], 1, 1

    from ..autograd import Function
    from .checks import CHECKS
    start = time.perf_counter()
    samples, uses, refs_used, baseline = survey(args.samples, args.seed)
    classes, todo = set(), [Function]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("minigrad.ops."):
                classes.add(sub)
    mutants = []
    for cls in sorted(classes, key=lambda c: (c.__module__, c.__name__)):
        if args.only and cls.__name__ not in args.only:
            continue
        entries = _entries_for(cls, uses, args.entries)
        for m in backward_mutants(cls, [r for r in args.rules if r not in REF_RULES], args.sites, args.seed):
            m.entries = entries
            mutants.append(m)
    if "off-by-one index" in args.rules:
        for module, name in _kernel_refs():
            if args.only and name not in args.only:
                continue
            entries = _entries_for((module, name), refs_used, args.entries)
            if entries:             # references no registry entry calls are the kernel tests' business
                for m in reference_mutants(module, name, args.sites, args.seed):
                    m.entries = entries
                    mutants.append(m)
    failing = sorted({(n, c) for (n, _, c), ok in baseline.items() if not ok})
    if failing:
        print(f"mutation: {len(failing)} unmutated (entry, check) pairs fail and are left out: {failing[:10]}")
    for m in mutants:
        run_mutant(m, samples, baseline)
        if args.verbose or (m.changed and not m.killed_by):
            state = "survived" if m.changed and not m.killed_by else \
                ("equivalent here" if not m.changed else "killed by " + ", ".join(m.killed_by))
            print(f"  {m.target:<36} {m.rule:<20} {state:<40} {m.site[:60]}")
    print(table(mutants, list(CHECKS)))
    print(f"{len(mutants)} mutants, seed {args.seed}, {args.samples} samples per entry, "
          f"{time.perf_counter() - start:.0f} s; PyTorch hidden")
    return 1 if any(m.changed and not m.killed_by for m in mutants) else 0


if __name__ == "__main__":
    sys.exit(main())
