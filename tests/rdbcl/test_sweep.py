"""``rdbcl-sweep``: a sweep file expands to method × seed recipes, bad sweeps fail before anything runs, a real sweep
runs its runs, skips them when rerun, refuses conflicting run directories, and compares them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from rdbcl.run.sweep import SweepError, cli, load_sweep, slurm_script, write_recipes


BASE = {"stream": "embedded", "n_train": 16, "n_eval": 8, "method": "grpo", "beta": 0.04, "max_steps": 1,
        "warm_start_steps": 0, "per_device_train_batch_size": 8, "num_generations": 4, "max_completion_length": 6,
        "eval_batch_size": 8, "eval_max_new_tokens": 6, "learning_rate": 0.001, "report_to": "none",
        "logging_steps": 1}


def _sweep(tmp_path, runs: dict, seeds=(0,), **extra) -> str:
    (tmp_path / "recipes").mkdir(exist_ok=True)
    (tmp_path / "recipes" / "base.yaml").write_text(yaml.safe_dump(BASE))
    spec = {"output_root": str(tmp_path / "out"), "seeds": list(seeds), "runs": runs, **extra}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return str(path)


def test_a_sweep_expands_to_one_recipe_per_method_and_seed(tmp_path):
    path = _sweep(tmp_path, {"rapo": {"recipe": "recipes/base.yaml", "set": {"rapo_alpha": 5.0}},
                             "grpo_beta0": {"recipe": "recipes/base.yaml", "set": {"beta": 0.0}}}, seeds=(0, 3))
    sweep = load_sweep(path)
    assert [r.label for r in sweep.runs] == ["rapo_seed0", "rapo_seed3", "grpo_beta0_seed0", "grpo_beta0_seed3"]
    rapo, _, beta0, _ = sweep.runs
    # a run named after a method runs it; another name keeps the base recipe's method
    assert (rapo.recipe["method"], rapo.recipe["rapo_alpha"], rapo.recipe["seed"]) == ("rapo", 5.0, 0)
    assert (beta0.recipe["method"], beta0.recipe["beta"]) == ("grpo", 0.0)
    assert beta0.recipe["output_dir"] == str(tmp_path / "out" / "grpo_beta0_seed0")
    write_recipes(sweep)
    assert yaml.safe_load(rapo.recipe_path.read_text())["rapo_alpha"] == 5.0


@pytest.mark.parametrize("runs, extra, message", [
    ({"grpo": {"recipe": "recipes/missing.yaml"}}, {}, "runs.grpo.recipe: no such file"),
    ({"mystery": {"recipe": "recipes/base.yaml", "set": {"method": "sgd_magic"}}}, {}, "unknown method 'sgd_magic'"),
    ({"grpo": {"recipe": "recipes/base.yaml", "sett": {}}}, {}, "runs.grpo: expected {recipe: PATH"),
    ({"grpo": {"recipe": "recipes/base.yaml"}}, {"seed": 1}, "unknown keys ['seed']"),
])
def test_bad_sweep_files_are_refused_naming_the_key(tmp_path, runs, extra, message):
    with pytest.raises(SweepError, match=message.replace("[", r"\[").replace("{", r"\{")):
        load_sweep(_sweep(tmp_path, runs, **extra))


def test_a_bad_field_in_set_names_the_run_before_anything_runs(tmp_path):
    sweep = load_sweep(_sweep(tmp_path, {"grpo": {"recipe": "recipes/base.yaml", "set": {"betaa": 0.1}}}))
    with pytest.raises(SweepError, match="run grpo_seed0: .*betaa"):
        write_recipes(sweep)
    assert not (tmp_path / "out" / "grpo_seed0").exists()


SHIPPED_SWEEPS = sorted(Path(__file__).resolve().parents[2].glob("launch/sweeps/*.yaml"))


def test_shipped_sweeps_naming_one_run_directory_give_it_one_recipe():
    """Sweeps under one output root reuse each other's finished runs by directory (the β and RDB-CL sweeps extend the
    main sweep's seeds), so every shipped sweep that names a run directory must plan the same recipe for it."""
    planned: dict[Path, tuple[str, dict]] = {}
    for path in SHIPPED_SWEEPS:
        for run in load_sweep(path).runs:
            first, recipe = planned.setdefault(run.output_dir, (path.name, run.recipe))
            assert run.recipe == recipe, f"{run.label}: {path.name} and {first} plan different recipes"
            assert run.recipe["output_dir"].endswith(run.label)
    assert len(planned) < sum(len(load_sweep(path).runs) for path in SHIPPED_SWEEPS)  # some are shared


@pytest.mark.parametrize("path", SHIPPED_SWEEPS, ids=lambda p: p.name)
def test_every_shipped_sweep_plans_valid_recipes(tmp_path, path):
    sweep = load_sweep(path)
    shared_root = sweep.output_root == load_sweep(path.with_name("digit_reasoning.yaml")).output_root
    sweep.output_root = tmp_path
    for run in sweep.runs:
        run.recipe_dir = tmp_path / "recipes"
    write_recipes(sweep)  # parses every run's recipe (GPU ones too, here without a GPU)
    assert len(sweep.runs) == len(sweep.seeds) * len({r.name for r in sweep.runs})
    methods = {r.recipe["method"] for r in sweep.runs}
    from rdbcl.methods import available_methods

    if path.name == "digit_reasoning.yaml":  # the testbed's comparison: RL alone against SFT, 3 seeds
        assert methods == {"grpo", "grpo_replay", "rdbcl", "seq_ft", "replay"} and len(sweep.seeds) == 3
        assert {r.recipe.get("beta") for r in sweep.runs if r.name.startswith("grpo")} == {0.04, 0.0}
    elif path.name == "digit_reasoning_beta.yaml":  # β > 0 against β = 0 on more seeds, sharing the main sweep's runs
        assert methods == {"grpo"} and sweep.seeds == [1, 2, 3, 4, 5, 6]
        assert shared_root  # seeds 1–3 are the main sweep's runs (same recipes: the test above)
        for run in sweep.runs:
            assert run.recipe["beta"] == (0.0 if run.name == "grpo_beta0" else 0.04)
    elif path.name.startswith("digit_reasoning_rdbcl"):  # RDB-CL against constant β on more seeds, matched mean β
        n_seeds = 12 if path.name == "digit_reasoning_rdbcl_12seeds.yaml" else 6
        assert methods == {"grpo", "rdbcl"} and sweep.seeds == list(range(1, n_seeds + 1))
        assert {(r.recipe["beta_min"], r.recipe["beta_max"]) for r in sweep.runs if r.name != "grpo"} == {(0.0, 0.08)}
        assert shared_root  # grpo's seeds 1–6 are the main and β sweeps' runs (same recipes: the test above)
    elif path.name == "digit_reasoning_tuning.yaml":  # RDB-CL variants on the tuning seed only, at matched mean β
        assert methods == {"grpo", "rdbcl"} and sweep.seeds == [0]
        assert {(r.recipe["beta_min"], r.recipe["beta_max"]) for r in sweep.runs if r.name != "grpo"} == {(0.0, 0.08)}
    else:  # the benchmark sweeps: every method
        assert methods == set(available_methods()) and len(sweep.runs) >= 22


def test_slurm_script_runs_one_sweep_index_per_array_job(tmp_path):
    sweep = load_sweep(_sweep(tmp_path, {"grpo": {"recipe": "recipes/base.yaml"}}, seeds=(0, 1, 2)))
    text = slurm_script(sweep, "accelerate launch rdbcl/train.py", ["--gpus-per-node=1"]).read_text()
    assert "#SBATCH --array=0-2" in text and "#SBATCH --gpus-per-node=1" in text
    assert '--index "$SLURM_ARRAY_TASK_ID"' in text and "--launcher 'accelerate launch rdbcl/train.py'" in text


def test_a_real_sweep_runs_skips_on_rerun_refuses_conflicts_and_compares(tmp_path, capsys):
    path = _sweep(tmp_path, {"grpo": {"recipe": "recipes/base.yaml"},
                             "seq_ft": {"recipe": "recipes/base.yaml", "set": {"max_steps": 2}}})
    cli([path, "--index", "1"])  # one array job's worth: only seq_ft
    out = tmp_path / "out"
    assert json.loads((out / "seq_ft_seed0" / "results.json").read_text())["complete"]
    assert not (out / "grpo_seed0").exists()

    cli([path])
    printed = capsys.readouterr().out
    assert "[1/2] grpo_seed0: running" in printed and "[2/2] seq_ft_seed0: complete, skipped" in printed
    results = {m: json.loads((out / f"{m}_seed0" / "results.json").read_text()) for m in ("grpo", "seq_ft")}
    assert all(r["complete"] and len(r["acc"]) == 3 for r in results.values())
    assert results["seq_ft"]["config"]["method"] == "seq_ft" and results["grpo"]["config"]["beta"] == 0.04
    table = json.loads((out / "compare" / "compare.json").read_text())
    assert set(table) == {"grpo", "seq_ft"}
    assert table["grpo"]["last"][0] == pytest.approx(results["grpo"]["metrics"]["last"])
    assert (out / "compare" / "forgetting.png").stat().st_size > 1000

    log = (out / "grpo_seed0" / "train.log").read_text()
    cli([path])  # everything complete: nothing reruns
    assert "complete, skipped" in capsys.readouterr().out and (out / "grpo_seed0" / "train.log").read_text() == log

    # same settings, but the run started from another base (its embedded base's recipe changed since): not complete
    elsewhere = {**results["grpo"]["model_args"], "resolved_model": "/old/cache/tiny-vlm-0"}
    (out / "grpo_seed0" / "results.json").write_text(json.dumps({**results["grpo"], "model_args": elsewhere}))
    now = re.escape(results["grpo"]["model_args"]["resolved_model"])
    with pytest.raises(SystemExit, match=f"grpo_seed0 .*started from /old/cache/tiny-vlm-0, but its recipe now starts "
                                         f"from {now} "):
        cli([path, "--list"])

    conflicting = _sweep(tmp_path, {"grpo": {"recipe": "recipes/base.yaml", "set": {"beta": 0.5}}})
    with pytest.raises(SystemExit, match="grpo_seed0 holds a run with another configuration .*config.beta: 0.04"):
        cli([conflicting])


def test_recipes_are_replaced_whole_so_concurrent_array_jobs_never_read_half_a_file(tmp_path, monkeypatch):
    from rdbcl import files

    sweep = load_sweep(_sweep(tmp_path, {"grpo": {"recipe": "recipes/base.yaml"}}, seeds=(0, 1)))
    written = []
    real_replace = files.os.replace
    monkeypatch.setattr(files.os, "replace", lambda src, dst: (written.append(Path(dst)), real_replace(src, dst)))
    write_recipes(sweep)  # as each `--index` job does before running its one run
    assert written == [run.recipe_path for run in sweep.runs]  # each recipe lands by a rename, complete
    assert not list(sweep.runs[0].recipe_dir.glob(".*.tmp"))
