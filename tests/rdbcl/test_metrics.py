"""CL metrics on hand-checked matrices (DESIGN §5)."""

import pytest

from rdbcl.run.metrics import summarize


def test_three_task_matrix_by_hand():
    acc = [
        [80.0, 10.0, None],
        [60.0, 70.0, 5.0],
        [40.0, 50.0, 90.0],
    ]
    m = summarize(acc)
    assert m["last"] == pytest.approx((40 + 50 + 90) / 3)  # 60.0
    # Average: after t0: 80; after t1: (60+70)/2 = 65; after t2: 60  -> (80+65+60)/3
    assert m["average"] == pytest.approx((80 + 65 + 60) / 3)
    assert m["mft"] == pytest.approx((80 + 70 + 90) / 3)
    # BWT: ((40-80) + (50-70)) / 2 = -30
    assert m["bwt"] == pytest.approx(-30.0)
    # forgetting: task0 max(80, 60) - 40 = 40; task1 max(70) - 50 = 20 -> 30
    assert m["forgetting"] == pytest.approx(30.0)


def test_forgetting_uses_best_earlier_not_diagonal():
    acc = [
        [50.0, 0.0],
        [30.0, 90.0],
    ]
    m = summarize(acc)
    assert m["forgetting"] == pytest.approx(20.0)
    assert m["bwt"] == pytest.approx(-20.0)
    acc3 = [[50.0, 0, 0], [70.0, 60.0, 0], [65.0, 50.0, 80.0]]
    # task0 peaked at 70 after task1 (positive transfer) -> forgetting 70-65 = 5, BWT 65-50 = +15
    m3 = summarize(acc3)
    assert m3["forgetting"] == pytest.approx((5 + 10) / 2)
    assert m3["bwt"] == pytest.approx((15 + -10) / 2)


def test_single_task_has_no_backward_figures():
    m = summarize([[42.0]])
    assert m == {"last": 42.0, "average": 42.0, "mft": 42.0, "bwt": None, "forgetting": None}


def test_upper_triangle_values_are_ignored():
    with_numbers = summarize([[10.0, 99.0], [20.0, 30.0]])
    with_none = summarize([[10.0, None], [20.0, 30.0]])
    assert with_numbers == with_none


@pytest.mark.parametrize("bad, message", [
    ([], "empty"),
    ([[1.0, 2.0]], "row 0"),
    ([[1.0, None], [None, 2.0]], r"acc\[1\]\[0\]"),
])
def test_malformed_matrices_are_rejected(bad, message):
    with pytest.raises(ValueError, match=message):
        summarize(bad)
