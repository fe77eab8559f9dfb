"""``python -m task_streams list`` and ``check``: what a user runs before training on a local copy."""

from __future__ import annotations

import json

from coin_fixture import INSTRUCTIONS, write_coin

from task_streams.__main__ import main


def _listed(capsys, *argv: str) -> tuple[dict, dict]:
    """The stream lines (name → line) and the indented task lines ((stream, task) → line) of `list`."""
    assert main(["list", *argv]) == 0
    streams, tasks, current = {}, {}, None
    for line in capsys.readouterr().out.splitlines()[1:]:
        if line.startswith(" "):
            tasks[(current, line.split()[0])] = line
        else:
            current = line.split()[0]
            streams[current] = line
    return streams, tasks


def test_list_prints_each_shipped_stream_with_its_task_count(capsys):
    streams, tasks = _listed(capsys)
    assert streams["coin"].split()[1] == "8" and "scienceqa → textvqa" in streams["coin"]
    assert streams["reasoning"].split()[1] == "3" and streams["embedded"].split()[1] == "3"
    assert streams["ucit"].split()[1] == "6"
    assert "imagenet_r → arxivqa → vizwiz_caption → iconqa → clevr_math → flickr30k" in streams["ucit"]
    assert streams["mllm_cl_ability"].split()[1] == "4" and "perception → gui" in streams["mllm_cl_ability"]


def test_list_marks_each_task_verifiable_or_not_and_why_a_task_is_remote(capsys):
    _, tasks = _listed(capsys)
    assert tasks[("ucit", "vizwiz_caption")].split()[1:] == ["dense", "cider"]
    assert tasks[("ucit", "clevr_math")].split()[1:] == ["verifiable", "numeric"]
    gui = tasks[("mllm_cl_ability", "gui")]
    assert gui.split()[1:4] == ["verifiable,", "remote", "multiple_choice"]
    assert "not scorable offline: its test answers are scored on the MMT-Bench evaluation server" in gui


def test_list_verifiable_only_shows_the_subsets_a_run_trains(capsys):
    streams, tasks = _listed(capsys, "--verifiable_only")
    assert streams["ucit"].split()[1] == "4" and "imagenet_r → arxivqa → iconqa → clevr_math" in streams["ucit"]
    assert streams["mllm_cl_ability"].split()[1] == "3" and streams["coin"].split()[1] == "8"
    assert ("ucit", "flickr30k") not in tasks and ("mllm_cl_ability", "gui") not in tasks


def test_check_a_good_copy(tmp_path, capsys):
    root = write_coin(tmp_path / "coin")
    assert main(["check", "coin", "--data-root", str(root)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("scienceqa"))
    assert row.split()[1:] == ["4", "4", "0", "0", "0"]
    assert out.strip().endswith("OK")


def test_check_reports_missing_unreadable_images_and_bad_rows(tmp_path, capsys):
    root = write_coin(tmp_path / "coin")
    (root / "cl_dataset" / "GQA" / "images" / "2354786.jpg").unlink()
    (root / "cl_dataset" / "OCR-VQA" / "images" / "000195850X.jpg").write_bytes(b"not an image")
    path = root / INSTRUCTIONS / "VizWiz" / "val.json"
    rows = json.loads(path.read_text())
    path.write_text(json.dumps([*rows, {"question_id": 9, "image": rows[0]["image"], "text": "?"}]))
    assert main(["check", "coin", "--data-root", str(root)]) == 2  # bad input exits as a usage error does
    out = capsys.readouterr().out
    table = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line[:1].isalpha()}
    assert table["gqa"] == ["0", "1", "1", "1", "0"]            # its one train row lost its image
    assert table["ocrvqa"] == ["1", "1", "0", "0", "1"]         # decodes fail only on a real read
    assert table["vizwiz"] == ["1", "1", "1", "0", "0"]         # a row without an answer
    assert "VizWiz/val.json, row 1, field 'answer': missing answer" in out
    assert "3 problem(s) found" in out


def test_check_without_data_root_says_so(capsys):
    assert main(["check", "coin"]) == 2
    assert "--data_root" in capsys.readouterr().err
