"""``python -m task_streams list`` and ``check``: what a user runs before training on a local copy."""

from __future__ import annotations

import json

from coin_fixture import INSTRUCTIONS, write_coin

from task_streams.__main__ import main


def test_list_prints_each_shipped_stream_with_its_task_count(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert lines["coin"].split()[1] == "8" and "scienceqa → textvqa" in lines["coin"]
    assert lines["reasoning"].split()[1] == "3" and lines["embedded"].split()[1] == "3"


def test_check_a_good_copy(tmp_path, capsys):
    root = write_coin(tmp_path / "coin")
    assert main(["check", "coin", "--data-root", str(root)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("scienceqa"))
    assert row.split()[1:] == ["2", "2", "0", "0", "0"]
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
