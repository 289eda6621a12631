"""What experiments exist, read from the source without importing any lecture code.

``introdl list``, ``--help`` and bad-input errors should answer in a fraction of a
second, but importing the experiments pulls in torch, torchvision, music21 and
scikit-image (seconds). Every experiment module declares its metadata as literals in
its decorator::

    @experiment(name="perceptron", lecture=1, title="...",
                claims=[Claim("z = -6", metric="z", expected=-6.0, tol=1e-9)],
                facts=[Fact("...", metric="...")], quick={"epochs": 1})

so this module parses each ``introdl/<topic>/experiments/*.py`` with :mod:`ast` and
evaluates only literals and ``Claim(...)`` / ``Fact(...)`` calls with literal
arguments — nothing else is evaluated, and no module is imported. A decorator whose
arguments are not literals (e.g. ``quick={"epochs": N}``) cannot be read this way;
that module is then imported instead, so listing stays correct, only slower. A test
checks that this catalogue equals the registry built by importing every module.

Topics are discovered from the file system (``pkgutil.iter_modules`` over the
package folders), never by importing a package, so a topic whose ``__init__``
imports torch costs nothing here.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from introdl.experiment import Claim, Fact

_CONSTRUCTORS = {"Claim": Claim, "Fact": Fact}
_FIELDS = ("name", "lecture", "title", "claims", "facts", "quick")


@dataclass(frozen=True)
class Entry:
    """One experiment as the catalogue knows it: its metadata and the module defining it."""

    name: str
    lecture: int
    title: str
    claims: tuple[Claim, ...]
    module: str
    facts: tuple[Fact, ...] = ()
    quick: dict[str, Any] = field(default_factory=dict, hash=False)


class NotLiteral(ValueError):
    """A decorator argument the static reader will not evaluate."""


def topic_modules(leaf: str, package: str = "introdl") -> list[tuple[str, Path]]:
    """``(module name, file)`` of every ``<package>.<topic>.<leaf>`` module, found on disk.

    ``leaf`` is ``experiments`` (a module, or a package whose modules are each listed)
    or ``commands``. Only ``package`` itself is imported (to find its folder).
    """
    found: list[tuple[str, Path]] = []
    for root in (Path(p) for p in importlib.import_module(package).__path__):
        for pkg in sorted(pkgutil.iter_modules([str(root)]), key=lambda m: m.name):
            if not pkg.ispkg:
                continue
            pkg_dir = root / pkg.name
            for sub in pkgutil.iter_modules([str(pkg_dir)]):
                if sub.name != leaf:
                    continue
                modname = f"{package}.{pkg.name}.{leaf}"
                if not sub.ispkg:
                    found.append((modname, pkg_dir / f"{leaf}.py"))
                    continue
                found.append((modname, pkg_dir / leaf / "__init__.py"))
                for m in sorted(pkgutil.iter_modules([str(pkg_dir / leaf)]),
                                key=lambda m: m.name):
                    path = pkg_dir / leaf / (f"{m.name}/__init__.py" if m.ispkg
                                             else f"{m.name}.py")
                    found.append((f"{modname}.{m.name}", path))
    return found


def _literal(node: ast.AST) -> Any:
    """Evaluate literals, containers of them, and Claim/Fact calls; refuse anything else."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        if any(isinstance(e, ast.Starred) for e in node.elts):
            raise NotLiteral("a starred element")
        items = [_literal(e) for e in node.elts]
        return {ast.Tuple: tuple, ast.List: list, ast.Set: set}[type(node)](items)
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise NotLiteral("a ** expansion")
        return {_literal(k): _literal(v) for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _literal(node.operand)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise NotLiteral("a sign on a non-number")
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.Call):
        name = _callee(node.func)
        if name not in _CONSTRUCTORS:
            raise NotLiteral(f"a call to {ast.unparse(node.func)}")
        if any(isinstance(a, ast.Starred) for a in node.args) or \
                any(k.arg is None for k in node.keywords):
            raise NotLiteral("* or ** arguments")
        args = [_literal(a) for a in node.args]
        kwargs = {k.arg: _literal(k.value) for k in node.keywords}
        return _CONSTRUCTORS[name](*args, **kwargs)
    raise NotLiteral(ast.unparse(node))


def _callee(func: ast.AST) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def read_source(source: str, module: str) -> list[Entry]:
    """The experiments one module's source declares, read without running it.

    Raises:
        NotLiteral: a decorator argument is not a literal (the module must be imported).
    """
    tree = ast.parse(source)
    entries = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for deco in node.decorator_list:
            if not (isinstance(deco, ast.Call) and _callee(deco.func) == "experiment"):
                continue
            if deco.args or any(k.arg is None for k in deco.keywords):
                raise NotLiteral("@experiment takes keyword arguments only")
            kw = {k.arg: k.value for k in deco.keywords}
            try:
                v = {k: _literal(n) for k, n in kw.items() if k in _FIELDS}
            except NotLiteral as e:
                raise NotLiteral(f"{module}: @experiment for {node.name}() has {e}") from None
            claims = v.get("claims", ())
            entries.append(Entry(
                name=v["name"], lecture=v["lecture"], title=v["title"],
                claims=(claims,) if isinstance(claims, Claim) else tuple(claims),
                module=module, facts=tuple(v.get("facts", ())), quick=dict(v.get("quick") or {}),
            ))
    return entries


@dataclass
class Catalogue:
    """Every experiment on disk by name, and the modules that had to be imported to know."""

    entries: dict[str, Entry]
    imported: list[str] = field(default_factory=list)  # modules not readable statically

    def names(self) -> list[str]:
        return list(self.entries)


def _from_registry(module: str) -> list[Entry]:
    """Import ``module`` and take the experiments it registers (the slow path)."""
    from introdl.experiment import _REGISTRY

    importlib.import_module(module)
    return [Entry(e.name, e.lecture, e.title, e.claims, e.module, e.facts, dict(e.quick))
            for e in _REGISTRY.values() if e.module == module]


def build(package: str = "introdl") -> Catalogue:
    """Read every experiment module on disk (statically where possible)."""
    entries: dict[str, Entry] = {}
    imported: list[str] = []
    for module, path in topic_modules("experiments", package):
        try:
            found = read_source(path.read_text(encoding="utf-8"), module)
        except NotLiteral:
            found = _from_registry(module)
            imported.append(module)
        for e in found:
            if e.name in entries:
                raise ValueError(f"experiment name {e.name!r} declared in {entries[e.name].module}"
                                 f" and {e.module}")
            entries[e.name] = e
    entries = dict(sorted(entries.items(), key=lambda kv: (kv[1].lecture, kv[0])))
    return Catalogue(entries, imported)


def names() -> list[str]:
    """Every experiment name on disk, without importing lecture code."""
    return build().names()


_LECTURE_LINE = re.compile(r"Lecture\s+(\d+)[^—:-]*[—:-]+\s*(.+)")


def lecture_titles(package: str = "introdl") -> dict[int, str]:
    """``{lecture: title}`` from each topic package's docstring ("Lecture 2 — Deep sequence
    modelling: ..." gives ``{2: "Deep sequence modelling"}``), read without importing it.

    A topic covering part of a lecture says so in its own words; the first topic to name a
    lecture gives its title.
    """
    titles: dict[int, str] = {}
    for root in (Path(p) for p in importlib.import_module(package).__path__):
        for pkg in sorted(pkgutil.iter_modules([str(root)]), key=lambda m: m.name):
            init = root / pkg.name / "__init__.py"
            if not pkg.ispkg or not init.is_file():
                continue
            doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
            m = _LECTURE_LINE.match(doc.strip().splitlines()[0]) if doc.strip() else None
            if m:
                title = re.split(r"[:(]", m.group(2))[0].strip().rstrip(".,")
                titles.setdefault(int(m.group(1)), title)
    return titles
