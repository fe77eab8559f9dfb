"""The recipes the suite's runs parse their arguments on top of.

Tests name their base recipe instead of relying on the default one (``rdbcl-train`` with no ``--config``): the
default is the reasoning testbed, whose pretrained π₀ takes minutes to build, while most tests need the embedded
stream's tiny random VLM and its colour/digits tasks.
"""

from pathlib import Path


RECIPES = Path(__file__).resolve().parents[1] / "launch" / "recipes"
# grpo on the embedded stream (seed 0, tiny random VLM); tests set --method and the budget
EMBEDDED = ["--config", str(RECIPES / "embedded" / "rl.yaml")]
