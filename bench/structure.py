"""The shape of the domain (issue 37): counts of ``server/chat`` that a before and an after can share.

    .venv/bin/python -m bench.structure                          # this checkout, printed
    .venv/bin/python -m bench.structure --root /tmp/c013de0 --json out.json --tests

Issue 37 moves ``server/chat``'s flat modules into capability packages; its closing note gives
before/after numbers, and those are only comparable when one tool counts both checkouts the same
way. Everything but ``--tests`` reads source with ``ast`` and imports nothing, so ``--root`` may
be any exported commit.

What is counted, and how:

- **Folders**: every directory under ``server/chat``: ``.py`` modules in it (``__init__.py`` not
  counted) and lines of all its ``.py`` files (``__init__.py`` included, as ``wc -l``), directly
  in it and with its subfolders.
- **Rooms**: the top-level entries of ``server/chat``: a module is one room (``writer.py``), a
  subpackage is one room (``conversations/``). In the room graph ``server/chat/__init__.py`` is
  a room of its own (``__init__``) only if an arrow touches it.
- **Arrows**: distinct (importer, imported) pairs of ``server.chat`` modules, packages'
  ``__init__`` included (named by the package). Every ``import``/``from`` statement counts,
  wherever it is: module level, inside functions, under ``if TYPE_CHECKING:``. Relative imports
  are resolved; ``from server.chat import x`` is an arrow to ``server.chat.x`` when that is a
  module, else to ``server.chat`` (a name of the package). Room arrows collapse modules into their
  room and drop arrows within a room. An arrow is *TYPE_CHECKING-only* when every statement
  behind it is under ``if TYPE_CHECKING:``, *deferred* when every one is inside a function.
- **Circles**: strongly connected components of more than one node (Tarjan), modules and rooms.
- **Floors**: levels of the condensation DAG: the longest import chain, counted in nodes (a
  circle is one node). A module importing nothing of ``server.chat`` is on floor 1.
- **Schemas importers**: modules under ``server/``, ``db/``, ``client_demo/``, ``tests/``,
  ``bench/`` with a statement importing ``server.chat.schemas`` itself; and, for after the split,
  any ``server.chat`` module whose last name contains ``schemas`` (``bot_schemas``,
  ``conversations.schemas``).
- **Construction**: ``Chat.__init__`` in ``server/chat/service.py``: lines (``def`` to its last
  line), parameters (``self`` not counted), ``self.x = Call(...)`` statements (``self.x = None
  if ... else Call(...)`` too), ``.attach(`` calls; and the ``chat.<attr> = ...`` assignments
  under ``server/`` outside ``service.py`` (parts built after construction, as
  ``server/chat_factory.py`` does).
- **Tests needing a live server** (``--tests``, 30-60 s): ``pytest --collect-only`` of the
  checkout, as a subprocess in ``--root`` with ``--python`` and ``PYTHONPATH`` set to the
  checkout (an exported commit is not the installed package; the tool checks where ``server``
  came from). ``bench/structure_collect.py``, copied beside it (the checkout's own ``bench/`` may
  not have it), is loaded as a plugin and counts collected items whose
  ``item.fixturenames`` (which include fixtures' own fixtures) name one of
  ``LIVE_SERVER_FIXTURES``. Those are the fixtures of ``tests/`` that start a real server:
  ``live_server`` (tests/conftest.py: uvicorn over ``create_app``), ``server``/``served``/
  ``serve``/``patient``/``small_backlog``/``default_bound`` (modules' own ``running(...)``,
  ``serving(...)`` or ``parley serve`` from tests/hostile/harness.py), ``nodes``/``sharing``/
  ``hooked_nodes`` (tests/scaleout: two uvicorn nodes) and ``stack`` (tests/deploy: nginx in front
  of two ``parley serve``). ``two_nodes`` is left out: in tests/chat it is two ``Chat`` objects,
  in tests/adapters two Redis clients. A test that starts a server in its own body (``async
  with running(...)``, tests/cli's ``serving``) is not counted: the count is a lower bound.

The review of c013de0 (/work/shared/reviews/2026-11-24-domain.md, finding 1) counted "48 modules
(7,881 lines) on 12 floors with 236 arrows", 2 circles, and "schemas.py imported by 56 modules".
On c013de0 this tool finds the same modules (48: ``__init__.py`` is not one), lines (7,881: its
one line is in them), arrows (236 distinct pairs, the two TYPE_CHECKING ones included), circles
(2, each closed by one TYPE_CHECKING arrow: ``blocking -> users``, ``webhooks -> bots``) and
schemas importers (56: the modules under ``server/``, 24 of them in ``server/chat``; the review
left out ``tests/``' 15 and ``bench/``'s 2). Floors differ: 9 here, where a circle is one node.
The review's 12 is, probably, the longest chain over the run-time arrows (without the two
TYPE_CHECKING ones the graph has no circle) counted in arrows: 13 modules, ``service -> hooks ->
bots -> messages -> mentions -> directory -> webhooks -> access -> users -> presence -> blocking
-> events -> schemas``; none of the other readings tried gives 12 (with the TYPE_CHECKING arrows
9 nodes, 8 arrows; at run time in nodes 13). The tool gives it as
``floors_runtime`` (in nodes) and ``longest_chain_runtime``, and the JSON's ``review_way`` holds
every number as the review counted it (its floors: ``floors_runtime`` - 1). ``Chat.__init__``
(finding 4) agrees too: 92 lines, 10 parameters, 5 ``attach``, 24 constructions (the review's
"23 services and the directory"). For issue 37's note compare one field across two runs.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "server.chat"
CHAT_DIR = Path("server/chat")
SOURCE_TOPS = ("server", "db", "client_demo", "tests", "bench")
SKIPPED_PARTS = {"node_modules", "__pycache__"}
# Fixtures that start a real server (see the module docstring for where each lives).
LIVE_SERVER_FIXTURES = (
    "live_server",
    "server",
    "served",
    "serve",
    "patient",
    "small_backlog",
    "default_bound",
    "nodes",
    "sharing",
    "hooked_nodes",
    "stack",
)
PLUGIN = "structure_collect"  # bench/structure_collect.py, copied beside the checkout and loaded by name


@dataclass(frozen=True)
class Module:
    """A ``.py`` file of the tree, with the dotted name Python gives it."""

    name: str
    path: Path
    package: bool  # an __init__.py: its name is the package's


@dataclass(frozen=True)
class Site:
    """One import statement's arrow: where it sits decides whether Python runs it at import."""

    type_checking: bool
    in_function: bool


@dataclass
class Graph:
    """Arrows between nodes, each with the statements behind it."""

    nodes: set[str] = field(default_factory=set)
    arrows: dict[tuple[str, str], list[Site]] = field(default_factory=dict)

    def edges(self, runtime_only: bool = False) -> set[tuple[str, str]]:
        return {
            pair
            for pair, sites in self.arrows.items()
            if not runtime_only or any(not s.type_checking for s in sites)
        }


def python_files(root: Path, top: str) -> Iterator[Path]:
    base = root / top
    if not base.is_dir():
        return
    for path in sorted(base.rglob("*.py")):
        if not SKIPPED_PARTS & set(path.relative_to(root).parts):
            yield path


def module_of(root: Path, path: Path) -> Module:
    parts = list(path.relative_to(root).with_suffix("").parts)
    package = parts[-1] == "__init__"
    if package:
        parts.pop()
    return Module(".".join(parts), path, package)


def modules_under(root: Path, tops: Iterable[str]) -> dict[str, Module]:
    return {m.name: m for top in tops for m in map(lambda p: module_of(root, p), python_files(root, top))}


def _type_checking_test(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_statements(tree: ast.AST) -> Iterator[tuple[ast.Import | ast.ImportFrom, Site]]:
    """Every import statement of a module with where it sits (under TYPE_CHECKING, in a function)."""

    def walk(node: ast.AST, type_checking: bool, in_function: bool) -> Iterator[tuple[Any, Site]]:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, Site(type_checking, in_function)
            return
        if isinstance(node, ast.If) and _type_checking_test(node.test):
            for child in node.body:
                yield from walk(child, True, in_function)
            for child in node.orelse:
                yield from walk(child, type_checking, in_function)
            return
        nested = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for inner in ast.iter_child_nodes(node):
            yield from walk(inner, type_checking, nested)

    yield from walk(tree, False, False)


def known_prefix(name: str, known: dict[str, Module]) -> str | None:
    """The longest dotted prefix of ``name`` that is a module of the tree (``a.b.C`` -> ``a.b``)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def targets(statement: ast.Import | ast.ImportFrom, module: Module, known: dict[str, Module]) -> set[str]:
    """The tree's modules one statement imports (a name of a package is an arrow to the package)."""
    if isinstance(statement, ast.Import):
        found = (known_prefix(alias.name, known) for alias in statement.names)
        return {name for name in found if name}
    if statement.level:
        package = module.name if module.package else module.name.rpartition(".")[0]
        parts = package.split(".") if package else []
        parts = parts[: len(parts) - (statement.level - 1)]
        base = ".".join([*parts, statement.module] if statement.module else parts)
    else:
        base = statement.module or ""
    found_set: set[str] = set()
    for alias in statement.names:
        whole = f"{base}.{alias.name}"
        target = whole if whole in known else known_prefix(base, known)
        if target:
            found_set.add(target)
    return found_set


def parse(module: Module) -> ast.Module:
    return ast.parse(module.path.read_text(), filename=str(module.path))


def chat_graph(root: Path) -> Graph:
    """The module graph of ``server.chat``: every statement's arrows, with where each sits."""
    known = modules_under(root, ["server"])
    chat = {name: m for name, m in known.items() if name == PACKAGE or name.startswith(PACKAGE + ".")}
    graph = Graph(nodes={short(name) for name in chat})
    for module in chat.values():
        for statement, site in import_statements(parse(module)):
            inside = {t for t in targets(statement, module, known) if t in chat}
            for target in inside - {module.name}:
                graph.arrows.setdefault((short(module.name), short(target)), []).append(site)
    return graph


def short(name: str) -> str:
    """``server.chat.conversations.topics`` -> ``conversations.topics``; the package -> ``__init__``."""
    return name.removeprefix(PACKAGE).removeprefix(".") or "__init__"


def room_of(node: str, root: Path) -> str:
    """``writer`` -> ``writer.py``; ``conversations.topics`` and ``conversations`` -> ``conversations/``."""
    first = node.split(".")[0]
    return first + "/" if (root / CHAT_DIR / first).is_dir() else first + ".py"


def rooms(root: Path) -> list[str]:
    chat = root / CHAT_DIR
    return sorted(
        p.name + "/" if p.is_dir() else p.name
        for p in chat.iterdir()
        if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.name != "__init__.py")
    )


def capability_of(node: str, root: Path) -> str:
    """A room, with every module at the top of ``server/chat`` but the facade (``service``) one
    room, ``kernel``: the graph of capabilities the import contract stacks."""
    room = room_of(node, root)
    return room if room.endswith("/") or room == "service.py" else "kernel"


def collapse(graph: Graph, root: Path, room: Callable[[str, Path], str] = room_of) -> Graph:
    rooms_graph = Graph(nodes={room(n, root) for n in graph.nodes if n != "__init__"})
    for (src, dst), sites in graph.arrows.items():
        a, b = room(src, root), room(dst, root)
        if src == "__init__" or dst == "__init__":
            a, b = ("__init__" if src == "__init__" else a), ("__init__" if dst == "__init__" else b)
        if a != b:
            rooms_graph.nodes |= {a, b}
            rooms_graph.arrows.setdefault((a, b), []).extend(sites)
    return rooms_graph


def components(nodes: set[str], edges: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan, iterative), each sorted."""
    out: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in sorted(edges):
        out[a].append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(out[node]):
                work.append((node, i + 1))
                nxt = out[node][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                member = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    member.append(top)
                    if top == node:
                        break
                found.append(sorted(member))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def floors(nodes: set[str], edges: set[tuple[str, str]]) -> tuple[int, list[str]]:
    """Levels of the condensation DAG: its longest path counted in nodes, and one such path (top
    first; a circle on it is written ``a+b+c``)."""
    comps = components(nodes, edges)
    if not comps:
        return 0, []
    which = {n: i for i, comp in enumerate(comps) for n in comp}
    below: dict[int, set[int]] = {c: set() for c in range(len(comps))}
    for a, b in edges:
        if which[a] != which[b]:
            below[which[a]].add(which[b])
    height: dict[int, int] = {}
    step: dict[int, int | None] = {}
    # Tarjan emits a component after every component it reaches: numbered so, lower ones first.
    for comp in range(len(comps)):
        nxt = max(sorted(below[comp]), key=lambda d: height[d], default=None)
        height[comp] = 1 + (height[nxt] if nxt is not None else 0)
        step[comp] = nxt
    highest = max(range(len(comps)), key=lambda c: height[c])
    chain, at = [], step[highest]
    chain.append("+".join(comps[highest]))
    while at is not None:
        chain.append("+".join(comps[at]))
        at = step[at]
    return height[highest], chain


def graph_report(graph: Graph) -> dict[str, Any]:
    edges, runtime = graph.edges(), graph.edges(runtime_only=True)
    levels, chain = floors(graph.nodes, edges)
    levels_runtime, chain_runtime = floors(graph.nodes, runtime)
    return {
        "nodes": len(graph.nodes),
        "arrows": len(edges),
        "circles": [c for c in components(graph.nodes, edges) if len(c) > 1],
        "floors": levels,
        "longest_chain": chain,
        "runtime_arrows": len(runtime),
        "circles_runtime": [c for c in components(graph.nodes, runtime) if len(c) > 1],
        "floors_runtime": levels_runtime,
        "longest_chain_runtime": chain_runtime,
        "type_checking_only": sorted(f"{a} -> {b}" for (a, b) in edges - runtime),
        "deferred_only": sorted(
            f"{a} -> {b}"
            for (a, b), sites in graph.arrows.items()
            if all(s.in_function for s in sites) and any(not s.type_checking for s in sites)
        ),
        "arrow_list": sorted(f"{a} -> {b}" for a, b in edges),
    }


def line_count(path: Path) -> int:
    return path.read_bytes().count(b"\n")


def folders(root: Path) -> dict[str, dict[str, int]]:
    """Per directory under server/chat: modules and lines directly in it and with its subfolders."""
    chat = root / CHAT_DIR
    dirs = [chat, *sorted(p for p in chat.rglob("*") if p.is_dir() and p.name not in SKIPPED_PARTS)]
    report = {}
    for d in dirs:
        direct = sorted(d.glob("*.py"))
        deep = [p for p in d.rglob("*.py") if not SKIPPED_PARTS & set(p.parts)]
        report[d.relative_to(root).as_posix()] = {
            "modules": sum(p.name != "__init__.py" for p in direct),
            "lines": sum(map(line_count, direct)),
            "modules_with_subfolders": sum(p.name != "__init__.py" for p in deep),
            "lines_with_subfolders": sum(map(line_count, deep)),
        }
    return report


def schemas_importers(root: Path) -> dict[str, dict[str, int]]:
    """Modules, by top folder, importing the domain's shared ``schemas`` (``server.chat.schemas``,
    or ``server.chat.kernel.schemas`` once the kernel has its package) / any ``*schemas*``."""
    known = modules_under(root, SOURCE_TOPS)
    exact = PACKAGE + ".kernel.schemas" if PACKAGE + ".kernel.schemas" in known else PACKAGE + ".schemas"
    counts: dict[str, dict[str, int]] = {"exact": {}, "any_schemas": {}}
    for module in known.values():
        found: set[str] = set()
        for statement, _site in import_statements(parse(module)):
            found |= targets(statement, module, known)
        group = module.name.split(".")[0]
        in_chat = module.name.startswith(PACKAGE + ".")
        any_schemas = {t for t in found if t.startswith(PACKAGE + ".") and "schemas" in t.rpartition(".")[2]}
        for kind, hit in (("exact", exact in found), ("any_schemas", bool(any_schemas - {module.name}))):
            if hit:
                counts[kind][group] = counts[kind].get(group, 0) + 1
                if in_chat:
                    counts[kind]["server.chat"] = counts[kind].get("server.chat", 0) + 1
    for kind in counts:
        c = counts[kind]
        c["server+db"] = c.get("server", 0) + c.get("db", 0)
        c["total"] = sum(c.get(top, 0) for top in SOURCE_TOPS)
    return counts


def construction(root: Path) -> dict[str, Any]:
    """How big ``Chat.__init__`` is, and what is bolted onto a ``chat`` after it."""
    service = root / CHAT_DIR / "service.py"
    report: dict[str, Any] = {}
    tree = ast.parse(service.read_text()) if service.exists() else ast.Module(body=[], type_ignores=[])
    init = next(
        (
            item
            for cls in tree.body
            if isinstance(cls, ast.ClassDef) and cls.name == "Chat"
            for item in cls.body
            if isinstance(item, ast.FunctionDef) and item.name == "__init__"
        ),
        None,
    )
    if init is not None:
        args = init.args
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, *filter(None, [args.vararg, args.kwarg])]
        built = [
            node
            for node in ast.walk(init)
            if isinstance(node, ast.Assign | ast.AnnAssign)
            and built_here(node.value)
            and any(attribute_of(target, "self") for target in assigned(node))
        ]
        attaches = [
            n
            for n in ast.walk(init)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "attach"
        ]
        report["chat_init"] = {
            "lines": (init.end_lineno or init.lineno) - init.lineno + 1,
            "first_line": init.lineno,
            "parameters": len(every) - 1,
            "self_constructions": len(built),
            "attach_calls": len(attaches),
        }
    after = [
        f"{module.path.relative_to(root).as_posix()}:{node.lineno} chat.{name}"
        for module in modules_under(root, ["server"]).values()
        if module.path != service
        for node in ast.walk(parse(module))
        if isinstance(node, ast.stmt)
        for name in filter(None, (attribute_of(target, "chat") for target in assigned(node)))
    ]
    report["assigned_after_construction"] = sorted(after)
    return report


def built_here(value: ast.expr | None) -> bool:
    """A call, or a call on one side of ``None if ... else Part(...)`` (an optional part is built
    too); not ``given or Part()``, a default for a part the caller may pass."""
    if isinstance(value, ast.IfExp):
        return built_here(value.body) or built_here(value.orelse)
    return isinstance(value, ast.Call)


def assigned(node: ast.AST) -> list[ast.expr]:
    """The targets of an assignment statement (none for any other node)."""
    if isinstance(node, ast.Assign):
        return node.targets
    return [node.target] if isinstance(node, ast.AnnAssign | ast.AugAssign) else []


def attribute_of(target: ast.expr, owner: str) -> str | None:
    """``x`` of a target ``owner.x``."""
    named = isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
    return target.attr if named and target.value.id == owner else None  # type: ignore[attr-defined]


def collect_tests(root: Path, python: str) -> dict[str, Any]:
    """``pytest --collect-only`` of ``root``'s tests with the plugin counting live-server tests."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "collected.json"
        # the plugin alone beside the checkout (bench/'s other modules would shadow libraries' names)
        shutil.copy(Path(__file__).with_name(PLUGIN + ".py"), tmp)
        path = [str(root), tmp]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([*path, *filter(None, [os.environ.get("PYTHONPATH")])]),
            "STRUCTURE_COLLECT_OUT": str(out),
            "STRUCTURE_LIVE_FIXTURES": json.dumps(LIVE_SERVER_FIXTURES),
        }
        started = time.monotonic()
        done = subprocess.run(
            [python, "-m", "pytest", "--collect-only", "-q", "-n0", "-p", PLUGIN, "tests"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if not out.exists():
            raise SystemExit(
                f"collection wrote nothing (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
            )
        report: dict[str, Any] = json.loads(out.read_text())
    report["seconds"] = round(time.monotonic() - started, 1)
    report["pytest_exit"] = done.returncode
    if not Path(report["server_from"]).resolve().is_relative_to(root.resolve()):
        raise SystemExit(f"the tests imported server from {report['server_from']}, not from {root}")
    return report


def review_counts(modules: dict[str, Any], graph: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """The numbers as the review of c013de0 counted them (see the module docstring)."""
    top = modules[CHAT_DIR.as_posix()]
    return {
        "modules": top["modules_with_subfolders"],
        "lines": top["lines_with_subfolders"],
        "arrows": graph["arrows"],
        "circles": len(graph["circles"]),
        "floors": max(graph["floors_runtime"] - 1, 0),  # the run-time chain, counted in arrows
        "schemas_importers": schemas["exact"].get("server", 0),
    }


def measure(root: Path, tests: bool = False, python: str = sys.executable) -> dict[str, Any]:
    graph = chat_graph(root)
    report: dict[str, Any] = {
        "root": str(root),
        "folders": folders(root),
        "rooms": rooms(root),
        "modules_graph": graph_report(graph),
        "rooms_graph": graph_report(collapse(graph, root)),
        "capabilities_graph": graph_report(collapse(graph, root, capability_of)),
        "schemas_importers": schemas_importers(root),
        "construction": construction(root),
    }
    report["review_way"] = review_counts(
        report["folders"], report["modules_graph"], report["schemas_importers"]
    )
    if tests:
        report["tests"] = collect_tests(root, python)
    return report


def summary(report: dict[str, Any]) -> str:
    top = report["folders"][CHAT_DIR.as_posix()]
    lines = [f"root {report['root']}"]
    for name, f in report["folders"].items():
        lines.append(
            f"  {name}: {f['modules']} modules, {f['lines']} lines"
            f" ({f['modules_with_subfolders']} / {f['lines_with_subfolders']} with subfolders)"
        )
    lines.append(f"rooms: {len(report['rooms'])} (modules in all: {top['modules_with_subfolders']})")
    for level in ("modules_graph", "rooms_graph", "capabilities_graph"):
        g = report[level]
        lines.append(
            f"{level}: {g['nodes']} nodes, {g['arrows']} arrows ({g['runtime_arrows']} at run time),"
            f" {len(g['circles'])} circles, {g['floors']} floors ({g['floors_runtime']} over run-time arrows)"
        )
        for circle in g["circles"]:
            lines.append(f"  circle: {' '.join(circle)}")
        for arrow in g["type_checking_only"]:
            lines.append(f"  TYPE_CHECKING only: {arrow}")
    s = report["schemas_importers"]
    lines.append(f"schemas importers (exact): {s['exact']}")
    lines.append(f"schemas importers (any *schemas*): {s['any_schemas']}")
    c = report["construction"]
    lines.append(f"Chat.__init__: {c.get('chat_init')}")
    lines.append(f"assigned after construction: {c['assigned_after_construction']}")
    lines.append(f"the review's way: {report['review_way']}")
    if "tests" in report:
        t = report["tests"]
        lines.append(
            f"tests: {t['collected']} collected, {t['live_server']} need a live server ({t['seconds']} s)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="a checkout (default: this one)")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--tests", action="store_true", help="collect the tests (30-60 s)")
    parser.add_argument("--python", default=sys.executable, help="the python that collects the tests")
    args = parser.parse_args(argv)
    report = measure(args.root.resolve(), args.tests, args.python)
    sys.stdout.write(summary(report) + "\n")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
