"""The package's layers import downwards only: configuration and files, then the models, then the RL and SFT
trainers, the methods built on them, the run (loop, evaluation, report, sweep), the testbed and the entry point.
A lower layer that imported a higher one would make a trainer depend on the run that uses it."""

import ast
from pathlib import Path

import pytest

import rdbcl


PACKAGE = Path(rdbcl.__file__).parent
LAYERS = {"config": 0, "files": 0, "models": 1, "rl": 2, "sft": 2, "methods": 3, "run": 4, "testbed": 5,
          "train": 6, "__init__": 7}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every ``rdbcl`` module ``path`` imports, at module level or inside a function."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "rdbcl":
            names = [node.module] if node.module != "rdbcl" else [f"rdbcl.{a.name}" for a in node.names]
            found += [(node.lineno, name) for name in names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "rdbcl"]
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_belongs_to_a_layer():
    unplaced = [str(p.relative_to(PACKAGE)) for p in MODULES
                if _layer(".".join(("rdbcl", *p.relative_to(PACKAGE).with_suffix("").parts))) not in LAYERS]
    assert not unplaced, f"modules outside every layer (add them to one): {unplaced}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path):
    module = ".".join(("rdbcl", *path.relative_to(PACKAGE).with_suffix("").parts))
    here = LAYERS[_layer(module)]
    upward = [f"line {line}: {name}" for line, name in _imports(path) if LAYERS[_layer(name)] > here]
    assert not upward, f"{module} (layer {_layer(module)}) imports from a layer above it: {upward}"


def test_the_check_sees_an_upward_import(tmp_path):
    """The rule can fail: a trainer that imported the run's loop is caught."""
    bad = tmp_path / "trainer.py"
    bad.write_text("def f():\n    from rdbcl.run.loop import StreamRunner\n")
    assert [name for _, name in _imports(bad) if LAYERS[_layer(name)] > LAYERS["rl"]] == ["rdbcl.run.loop"]
