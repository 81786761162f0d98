"""Imports only point down the layers of docs/ARCHITECTURE.md, and no modules import each other in a circle.

Every `import`/`from ... import` of `src/reelgan` counts, inside functions too (a function-level import is
still a dependency; it only hides a circle).
"""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# Top-level packages and modules of reelgan, bottom first; a unit may import only from lower ranks (and itself).
LAYERS: list[tuple[str, ...]] = [
    ("errors",),
    ("checks", "devices", "paths"),
    ("config", "progress"),
    ("provenance",),
    ("data", "media"),
    ("gan",),
    ("metrics", "glyphs"),
    ("training", "script", "explore", "synth"),
    ("film",),
    ("demo",),
    ("studio",),
    ("cli",),
    ("__main__",),
]
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def imports() -> list[tuple[str, str, list[str]]]:
    """(importing module, imported module, names taken) for every reelgan import in src/reelgan."""
    found = []
    for path in sorted((SRC / "reelgan").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        package = module if is_package else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                names = [alias.name for alias in node.names]
                if target == "reelgan" or target.startswith("reelgan."):
                    # `from reelgan.x import y` may name the submodule reelgan.x.y
                    found.append((module, target, names))
            elif isinstance(node, ast.Import):
                found += [(module, alias.name, []) for alias in node.names if alias.name.startswith("reelgan")]
    return found


def unit_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "reelgan"


def test_every_unit_has_a_layer():
    units = {unit_of(m) for m, _, _ in imports()} - {"reelgan"}
    assert units <= set(RANK), f"give these a layer in LAYERS: {sorted(units - set(RANK))}"


def test_imports_only_point_down():
    upward = []
    for module, target, names in imports():
        source, dest = unit_of(module), unit_of(target)
        if dest == "reelgan":  # the package face: only its version string may be read from below
            if module != "reelgan" and names != ["__version__"]:
                upward.append(f"{module} imports {names} from the package face")
            continue
        if source == "reelgan" or source == dest:
            continue
        if RANK[dest] >= RANK[source]:
            upward.append(f"{module} -> {target} ({dest} is not below {source})")
    assert upward == []


def test_no_import_circles():
    modules = {m for m, _, _ in imports()}
    graph: dict[str, set[str]] = {}
    for module, target, names in imports():
        for candidate in [target] + [f"{target}.{n}" for n in names]:
            if candidate in modules and candidate != module and not module.startswith(candidate + "."):
                graph.setdefault(module, set()).add(candidate)
    state: dict[str, int] = {}  # 1: on the path, 2: done
    circles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                circles.append(" -> ".join(path[path.index(nxt):] + [nxt]) if nxt in path else nxt)
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    # The package face `reelgan` imports training, whose modules read `__version__` from it: not a circle of code.
    assert [c for c in circles if "reelgan" not in c.split(" -> ")] == []
