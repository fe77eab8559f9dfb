"""``rdbcl-compare``: grouping by method and setting, mean ± std over seeds, refusals, written table and figures."""

from __future__ import annotations

import json
import statistics

import pytest

from rdbcl.run.compare import CompareError, cli, compare, per_task_forgetting
from rdbcl.run.metrics import summarize


def _run(root, name: str, method: str, seed: int, acc, beta: float = 0.04, tasks=("a", "b", "c"), complete=True):
    d = root / name
    d.mkdir()
    results = {"config": {"method": method, "seed": seed, "beta": beta, "output_dir": str(d)},
               "stream": {"name": "s", "tasks": [{"name": t} for t in tasks]}, "acc": acc,
               "metrics": summarize(acc) if complete else None, "complete": complete,
               "timings": {"total_s": 100.0 + seed}, "peak_memory_mb": {"cpu_rss": 1000.0 + 10 * seed}}
    (d / "results.json").write_text(json.dumps(results))
    return d


A0 = [[80, 0, 0], [10, 70, 0], [5, 20, 60]]
A1 = [[90, 0, 0], [30, 80, 0], [15, 40, 70]]
B0 = [[80, 0, 0], [0, 90, 0], [0, 0, 95]]


def test_groups_by_method_and_setting_with_mean_and_std(tmp_path, capsys):
    dirs = [_run(tmp_path, "g0", "grpo", 0, A0), _run(tmp_path, "g1", "grpo", 1, A1),
            _run(tmp_path, "z0", "grpo", 0, B0, beta=0.0), _run(tmp_path, "s0", "seq_ft", 0, B0)]
    table = compare(dirs, tmp_path / "out")
    assert set(table) == {"grpo beta=0.04", "grpo beta=0.0", "seq_ft"}
    row = table["grpo beta=0.04"]
    lasts = [summarize(A0)["last"], summarize(A1)["last"]]
    assert row["last"] == pytest.approx((statistics.mean(lasts), statistics.stdev(lasts)))
    assert row["seeds"] == [0, 1] and row["wall_s"] == pytest.approx((100.5, statistics.stdev([100.0, 101.0])))
    assert table["seq_ft"]["last"] == (pytest.approx(95 / 3), None)  # one seed: no spread
    out = capsys.readouterr().out
    assert "| grpo beta=0.04 | 2 | 35.0 ± 9.4 |" in out  # Last (5+20+60)/3 and (15+40+70)/3
    assert (tmp_path / "out" / "compare.md").read_text() == out.rstrip("\n") + "\n"
    assert json.loads((tmp_path / "out" / "compare.json").read_text())["seq_ft"]["runs"] == [str(dirs[3])]
    for figure in ("forgetting.png", "heatmaps.png"):
        assert (tmp_path / "out" / figure).stat().st_size > 5000


def test_per_task_forgetting_is_best_before_the_end_minus_final():

    assert per_task_forgetting([{"acc": A0}, {"acc": A1}]) == [pytest.approx(((80 - 5) + (90 - 15)) / 2),
                                                               pytest.approx(((70 - 20) + (80 - 40)) / 2)]


def test_refuses_different_streams_incomplete_runs_and_non_runs(tmp_path):
    a = _run(tmp_path, "a", "grpo", 0, A0)
    b = _run(tmp_path, "b", "grpo", 0, A0, tasks=("a", "b", "d"))
    with pytest.raises(CompareError, match=r"different streams cannot be compared: .*\(a → b → c\).*\(a → b → d\)"):
        compare([a, b])
    partial = _run(tmp_path, "p", "grpo", 1, A0[:1], complete=False)
    with pytest.raises(CompareError, match="incomplete"):
        compare([a, partial])
    with pytest.raises(SystemExit, match="rdbcl-compare: .*nothing: no results.json"):
        cli([str(a), str(tmp_path / "nothing")])


def test_paired_differences_to_constant_beta_grpo_on_shared_seeds(tmp_path, capsys):
    from scipy.stats import t

    from rdbcl.run.compare import paired_interval

    grpo = [A0, A1, B0]
    other = [B0, A0, A1, A0]  # seed 3 has no grpo run: left out of the pairs
    dirs = [_run(tmp_path, f"g{s}", "grpo", s, acc) for s, acc in enumerate(grpo)]
    dirs += [_run(tmp_path, "z0", "grpo", 0, A1, beta=0.0)]
    dirs += [_run(tmp_path, f"r{s}", "rdbcl", s, acc) for s, acc in enumerate(other)]
    compare(dirs, tmp_path / "out")
    paired = json.loads((tmp_path / "out" / "paired.json").read_text())
    assert paired["reference"] == "grpo beta=0.04"  # the grpo group with β > 0, not β = 0
    diffs = [summarize(o)["last"] - summarize(g)["last"] for o, g in zip(other, grpo, strict=False)]
    row = paired["paired"]["rdbcl"]["last"]
    half = t.ppf(0.975, 2) * statistics.stdev(diffs) / 3 ** 0.5
    assert row["n"] == 3 and row["mean"] == pytest.approx(statistics.mean(diffs))
    assert row["ci"] == pytest.approx([statistics.mean(diffs) - half, statistics.mean(diffs) + half])
    beta0 = paired["paired"]["grpo beta=0.0"]["last"]
    assert beta0["n"] == 1 and beta0["ci"] is None  # one shared seed: no interval
    assert "Paired difference to `grpo beta=0.04`" in capsys.readouterr().out
    assert paired_interval([1.0, 1.0, 1.0]) == {"n": 3, "mean": 1.0, "ci": (1.0, 1.0)}
