#!/usr/bin/env bash
# GPU check: the model-family tests and every recipe in miniature, on CUDA in bf16, one line per check.
#
#   bash launch/scripts/gpu_check.sh           # from any directory; needs a CUDA torch and the dev extra
#
# Runs, each as one pytest process with a time limit (about 8 min in all):
#   - tests/rdbcl/test_model_families.py: every model family (tiny random Qwen2-VL, Qwen2.5-VL, Idefics3, LLaVA-1.5,
#     Gemma 3) through the stream loop, the KL anchor against the previous checkpoint;
#   - tests/test_recipes_in_miniature.py: every recipe of launch/recipes/ with its model swapped for its family's tiny
#     model, on a miniature of its stream, 2 tasks × 2 steps;
#   - where `import vllm` works: the coin_rdbcl recipes again with TRL's vLLM colocate rollouts.
# The tests read RDBCL_TEST_DEVICE=cuda (tests/suite_recipes.py: `--dtype bfloat16 --bf16 true` for their runs, and
# a clear failure if torch sees no GPU) and RDBCL_TEST_VLLM=1 (tests/test_recipes_in_miniature.py: `--use_vllm true
# --vllm_mode colocate` for RL recipes, the flags of launch/scripts/vllm_colocate.sh); without them the same tests run
# on CPU in fp32, as in the CPU suite.
#
# Prints `PASS name (seconds)` or `FAIL name` per test, `SKIP name` for skipped ones, then `N passed, M failed`; exits
# 1 if any check failed, 2 (one line, nothing run) when no CUDA device is present. PYTHON picks the interpreter.
set -uo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python}

if ! "$PYTHON" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" >/dev/null 2>&1; then
    echo "gpu_check: no CUDA device (torch.cuda.is_available() is False); run it on a machine with a GPU" >&2
    exit 2
fi

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
export RDBCL_TEST_DEVICE=cuda
PASSED=0
FAILED=0

# One line per test case of a junit report; the last line, `COUNTS passed failed`, is for the totals.
REPORT='
import sys
import xml.etree.ElementTree as ET

path, suffix = sys.argv[1], sys.argv[2]
passed = failed = 0
for case in ET.parse(path).iter("testcase"):
    name = case.get("name") + suffix
    problems = [e for e in (case.find("failure"), case.find("error")) if e is not None]
    if case.find("skipped") is not None:
        print(f"SKIP {name}")
    elif problems:
        failed += 1
        reason = ((problems[0].get("message") or "").splitlines() or [""])[0][:160]
        print(f"FAIL {name}" + (f": {reason}" if reason else ""))
    else:
        passed += 1
        seconds = float(case.get("time", 0))
        print(f"PASS {name} ({seconds:.1f}s)")
print("COUNTS", passed, failed)
'

# run_group NAME SECONDS PYTEST_ARGS...: one pytest process, then its lines. SIGINT at the limit, so that pytest
# still writes the report of the tests it finished.
run_group() {
    local name=$1 limit=$2 rc lines counts
    shift 2
    timeout -s INT -k 30 "$limit" "$PYTHON" -m pytest -q -p no:cacheprovider -W ignore::FutureWarning \
        --junitxml="$OUT/$name.xml" "$@" >"$OUT/$name.log" 2>&1
    rc=$?
    if [ -s "$OUT/$name.xml" ]; then
        lines=$("$PYTHON" -c "$REPORT" "$OUT/$name.xml" "$([ "$name" = recipes_vllm ] && echo ' [vllm]')")
        echo "$lines" | grep -v '^COUNTS '
        counts=$(echo "$lines" | grep '^COUNTS ')
        PASSED=$((PASSED + $(echo "$counts" | cut -d' ' -f2)))
        FAILED=$((FAILED + $(echo "$counts" | cut -d' ' -f3)))
    fi
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "FAIL $name: stopped at its ${limit}s limit (tests not reached are not counted)"
        FAILED=$((FAILED + 1))
    elif [ ! -s "$OUT/$name.xml" ]; then
        echo "FAIL $name: pytest exited $rc without a report; the end of its output:"
        tail -n 20 "$OUT/$name.log"
        FAILED=$((FAILED + 1))
    fi
}

run_group model_families 190 tests/rdbcl/test_model_families.py
run_group recipes 160 tests/test_recipes_in_miniature.py
if "$PYTHON" -c "import vllm" >/dev/null 2>&1; then
    RDBCL_TEST_VLLM=1 run_group recipes_vllm 100 tests/test_recipes_in_miniature.py -k coin_rdbcl
else
    echo "SKIP recipes_vllm (vllm is not importable: pip install \".[vllm]\")"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
