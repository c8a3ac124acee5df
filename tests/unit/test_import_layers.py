"""Imports inside ltv_pipeline run one way, from the core up to the command line.

core <- (synthetic, scenarios, quality) <- ingest <- marts <- prediction <- decisions <-
publish <- orchestration (and the root `definitions.py`) <- commands. A module may import
its own layer or any layer below it, never one above; and no two packages import each
other, directly or through others. Read from the source (ast), so the test sees imports
inside functions too.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "ltv_pipeline"

LAYERS: dict[str, int] = {
    "core": 0,
    "synthetic": 1,
    "scenarios": 1,
    "quality": 1,
    "ingest": 2,
    "marts": 3,
    "prediction": 4,
    "decisions": 5,
    "publish": 6,
    "orchestration": 7,
    "definitions": 7,
    "commands": 8,
}
"""Each top-level package (or root module) of ltv_pipeline and its layer."""


def _module_name(path: Path, package: Path) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path, package_dir: Path) -> set[str]:
    """Every ltv_pipeline module `path` imports, absolute or relative."""
    module = _module_name(path, package_dir)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.add(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                found.add(node.module)
    return {name for name in found if name == "ltv_pipeline" or name.startswith("ltv_pipeline.")}


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def import_edges(package: Path = PACKAGE) -> set[tuple[str, str, str]]:
    """(importing module, its top-level package, imported top-level package) across packages."""
    edges = set()
    for path in package.rglob("*.py"):
        source = _module_name(path, package)
        for target in _imported(path, package):
            a, b = _top(source), _top(target)
            if a and b and a != b:
                edges.add((source, a, b))
    return edges


def test_every_top_level_package_has_a_layer():
    tops = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir() if (p.suffix == ".py" or (p / "__init__.py").exists())}
    assert tops - {"__init__"} <= set(LAYERS), f"give these a layer: {sorted(tops - {'__init__'} - set(LAYERS))}"


def test_every_package_has_an_init_module():
    missing = [str(d.relative_to(PACKAGE)) for d in PACKAGE.rglob("*") if d.is_dir() and any(d.glob("*.py")) and not (d / "__init__.py").exists()]
    assert not missing


def test_no_import_climbs_the_layers():
    upward = sorted(f"{source} imports {b}" for source, a, b in import_edges() if LAYERS[b] > LAYERS[a])
    assert not upward, "\n".join(upward)


def test_no_two_packages_import_each_other():
    graph: dict[str, set[str]] = {}
    for _, a, b in import_edges():
        graph.setdefault(a, set()).add(b)

    def reaches(start: str) -> set[str]:
        seen, todo = set(), list(graph.get(start, ()))
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(graph.get(node, ()))
        return seen

    circular = sorted(package for package in graph if package in reaches(package))
    assert not circular


def test_the_check_sees_an_upward_import(tmp_path):
    """The rule itself catches a mart module importing a prediction module, also inside a function."""
    root = tmp_path / "ltv_pipeline"
    for name in ("marts", "prediction"):
        (root / name).mkdir(parents=True)
        (root / name / "__init__.py").write_text("")
    (root / "marts" / "x.py").write_text("def f():\n    from ltv_pipeline.prediction import y\n")
    assert [(a, b) for _, a, b in import_edges(root)] == [("marts", "prediction")]
