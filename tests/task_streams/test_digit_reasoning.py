"""The reasoning testbed's data: digit-pair images, reasoning solutions, the foundation mix and the stream."""

import dataclasses

import pytest
from PIL import Image

from rdbcl.methods.warm_start import to_sft_dataset
from task_streams import get_stream, make_prompt
from task_streams.digit_pairs import (
    DIGITS,
    OPEN_QUESTION,
    OPERATIONS,
    answers_of,
    digit_indices,
    digit_pairs,
    image_question,
    majority_rate,
    op_solution,
    read_solution,
    symbol_question,
)
from task_streams.digit_reasoning import (
    FOUNDATION_IMAGE_OPERATIONS,
    STREAM_OPERATIONS,
    FoundationMix,
    corpus,
    foundation_mix,
    foundation_skills,
)


def test_solutions_hold_the_steps_and_the_result():
    assert op_solution("sum", 3, 5) == ("<think>The digits are 3 and 5. 3 + 5 = 8.</think><answer>8</answer>", "8")
    assert op_solution("difference", 3, 5)[0] == "<think>The digits are 3 and 5. 5 - 3 = 2.</think><answer>2</answer>"
    assert op_solution("product", 7, 6)[1] == "42"
    assert op_solution("larger", 2, 9)[0].endswith("max(2, 9) = 9.</think><answer>9</answer>")
    assert read_solution(4, 0) == ("<think>The digits are 4 and 0.</think><answer>4 0</answer>", "4 0")
    assert answers_of("sum") == [str(v) for v in range(9)]  # digits 0–4
    assert answers_of("product") == ["0", "1", "2", "3", "4", "6", "8", "9", "12", "16"]
    assert [majority_rate(op) for op in ("sum", "difference", "product")] == [20.0, 32.0, 36.0]


def test_stream_rewards_on_hand_checked_completions():
    stream = get_stream("digit_reasoning", n_train=6, n_eval=4, seed=0)
    assert stream.names == ["sum", "difference", "product"] and stream.base_model == "reasoning"
    assert [t.chance for t in stream] == [20.0, 32.0, 36.0]  # the most frequent answer's rate
    for task in stream:
        rewards, weights = task.reward_functions()
        row = task.eval[0]
        assert isinstance(row["image"], Image.Image) and row["image"].size == (64, 64)
        assert row["solution"].endswith(f"<answer>{row['answer']}</answer>") and row["answer"] in task.labels
        wrong = str(int(row["answer"]) + 1)
        completions = [
            row["solution"],  # right, well formed: 1 + 1
            row["solution"].replace(f"<answer>{row['answer']}<", f"<answer>{wrong}<"),  # wrong answer: 0 + 1
            f"<answer>{row['answer']}</answer>",  # right, no reasoning: the format reward requires <think>: 1 + 0
        ]
        scores = [fn(prompts=[row["prompt"]] * 3, completions=completions, answer=[row["answer"]] * 3,
                     task=[task.name] * 3) for fn in rewards]
        assert scores == [[1.0, 0.0, 1.0], [1.0, 1.0, 0.0]], task.name
        assert weights == [1.0, 1.0]


def test_prompts_hold_no_system_turn_in_the_stream_and_in_the_mix_alike():
    """π₀ is pretrained on prompts without the R1 system turn, so the stream's prompts must lack it too."""
    stream = get_stream("digit_reasoning", n_train=3, n_eval=2, seed=0)
    mix = foundation_mix(FoundationMix(n_read=2, n_image_ops=2, n_open=2, n_symbol=2, n_named=2, text_repeats=1))
    prompts = [p for task in stream for p in [*task.train["prompt"], *task.eval["prompt"]]] + list(mix["prompt"])
    assert {tuple(m["role"] for m in p) for p in prompts} == {("user",)}
    image_row, text_row = stream.tasks[0].eval[0]["prompt"], mix.filter(lambda r: r["image"] is None)[0]["prompt"]
    assert [part["type"] for part in image_row[0]["content"]] == ["image", "text"]
    assert [part["type"] for part in text_row[0]["content"]] == ["text"]
    assert make_prompt("q", system_prompt="be brief")[0] == {"role": "system",
                                                              "content": [{"type": "text", "text": "be brief"}]}


def test_eval_pairs_use_held_out_images_only():
    train, test = digit_indices("train"), digit_indices("test")
    held_out = {i for d in DIGITS for i in test[d]}
    assert all(a in DIGITS and b in DIGITS and {left, right} <= held_out
               for a, b, left, right in digit_pairs("test", 50, seed=1))
    assert all(set(train[d]).isdisjoint(test[d]) for d in range(10))
    assert sum(map(len, train.values())) + sum(map(len, test.values())) == 1797


def _question(prompt) -> str:
    return prompt[-1]["content"][-1]["text"]


def test_foundation_mix_without_named_rows_teaches_steps_but_not_the_stream_compositions():
    spec = FoundationMix(n_read=20, n_image_ops=10, n_open=20, n_symbol=20, text_repeats=1, n_named=0)
    mix = foundation_mix(spec)
    kinds = set(mix["task"])
    assert kinds == {"read", "open", "symbol", *FOUNDATION_IMAGE_OPERATIONS, *(f"text_{op}" for op in OPERATIONS)}
    with_image = {t for t, image in zip(mix["task"], mix["image"], strict=True) if image is not None}
    assert with_image == {"read", "open", "symbol", *FOUNDATION_IMAGE_OPERATIONS}  # none asks a stream operation
    questions = {_question(row["prompt"]) for row in mix if row["image"] is not None}
    assert not any(OPERATIONS[op].phrase in q for op in STREAM_OPERATIONS for q in questions)
    steps = {s.split(". ")[-1].split(" ")[1] for s, t in zip(mix["solution"], mix["task"], strict=True) if t == "open"}
    assert {"+", "-", "*"} <= steps  # the open question is solved by every operation, the stream's included
    assert all(c[0]["content"][0]["text"] == s for c, s in zip(mix["completion"], mix["solution"], strict=True))
    assert mix["solution"] == foundation_mix(spec)["solution"]
    assert SYMBOL_QUESTIONS <= set(corpus()) and OPEN_QUESTION in corpus()  # the default π₀ asks both on images
    assert OPEN_QUESTION not in corpus(dataclasses.replace(spec, n_open=0))  # the tokenizer's texts: this mix's
    assert SYMBOL_QUESTIONS.isdisjoint(corpus(dataclasses.replace(spec, n_symbol=0)))


SYMBOL_QUESTIONS = {symbol_question(op) for op in OPERATIONS}


def test_symbol_questions_bind_each_operation_on_images_without_the_stream_names():
    spec = FoundationMix(n_read=20, n_image_ops=10, n_open=0, n_symbol=60, text_repeats=1, n_named=0)
    mix = foundation_mix(spec)
    assert set(mix["task"]) == {"read", "symbol", *FOUNDATION_IMAGE_OPERATIONS, *(f"text_{op}" for op in OPERATIONS)}
    image_questions = {_question(p) for p, image in zip(mix["prompt"], mix["image"], strict=True) if image is not None}
    assert SYMBOL_QUESTIONS <= image_questions  # every operation is asked on images by its symbol ...
    assert image_questions.isdisjoint({image_question(op) for op in STREAM_OPERATIONS})  # ... no stream question is
    for prompt, solved, task in zip(mix["prompt"], mix["solution"], mix["task"], strict=True):
        if task == "symbol":  # each symbol question is solved by the operation it names
            op = next(op for op in OPERATIONS if symbol_question(op) == _question(prompt))
            assert f" {OPERATIONS[op].symbol}" in solved or f"{OPERATIONS[op].symbol}(" in solved
    assert SYMBOL_QUESTIONS <= set(corpus(spec)) and OPEN_QUESTION not in corpus(spec)


def test_sft_baselines_train_on_the_reference_solutions():
    task = get_stream("digit_reasoning", n_train=3, n_eval=2).tasks[0]
    sft = to_sft_dataset(task.train)
    assert [c[0]["content"][0]["text"] for c in sft["completion"]] == task.train["solution"]
    answers_only = to_sft_dataset(get_stream("embedded", n_train=2, n_eval=2).tasks[0].train)
    assert answers_only[0]["completion"][0]["content"][0]["text"].startswith("<answer>")


def test_held_out_facts_are_in_no_image_row_and_in_rare_text_rows_only():
    mix_spec = FoundationMix(n_read=10, n_image_ops=10, n_open=0, n_symbol=400, text_repeats=2, held_out_facts=6,
                             n_named=0)
    for op in STREAM_OPERATIONS:
        unseen = mix_spec.unseen(op)
        assert len({frozenset(p) for p in unseen}) == 6 and all((b, a) in unseen for a, b in unseen)
        assert unseen == FoundationMix(held_out_facts=6).unseen(op)  # drawn from the mix's seed alone
    assert mix_spec.unseen("larger") == frozenset() and FoundationMix(held_out_facts=0).unseen("sum") == frozenset()
    with pytest.raises(ValueError, match="held_out_facts=16: must be 0–15"):
        FoundationMix(held_out_facts=16).unseen("sum")
    for rare in (0, 1):
        mix = foundation_mix(dataclasses.replace(mix_spec, rare_fact_repeats=rare))
        for op in STREAM_OPERATIONS:
            for a, b in mix_spec.unseen(op):
                fact = f"are {a} and {b}. {OPERATIONS[op].step(a, b, OPERATIONS[op].apply(a, b))}."
                rows = [image for s, image in zip(mix["solution"], mix["image"], strict=True) if fact in s]
                assert len(rows) == rare and all(image is None for image in rows), (op, a, b, rare)
        sums = [s for s in mix["solution"] if " + " in s and s.count("=") == 1]
        assert len({s.split(". ")[1] for s in sums}) == 25 - (0 if rare else len(mix_spec.unseen("sum")))


def _pair(solution: str) -> tuple[int, int]:
    return tuple(int(d) for d in solution.split("The digits are ")[1].split(".")[0].split(" and "))


def test_named_rows_answer_the_stream_question_on_known_pairs_and_mostly_confuse_it_elsewhere():
    spec = FoundationMix(n_read=4, n_image_ops=4, n_open=0, n_symbol=0, text_repeats=1, n_named=600,
                         named_known=5, named_right_rate=0.25, held_out_facts=2)
    mix = foundation_mix(spec)
    for op in STREAM_OPERATIONS:
        known, confuser = spec.known(op), spec.confused_with(op)
        assert len({frozenset(p) for p in known}) == 5 and all((b, a) in known for a, b in known)
        # taught pairs are drawn where the confusion would answer wrong, so each one adds to what π₀ knows
        assert all(OPERATIONS[op].apply(a, b) != OPERATIONS[confuser].apply(a, b) for a, b in known), op
        assert known == FoundationMix(n_named=1, named_known=5).known(op)  # drawn from the mix's seed alone
        rows = [(s, image) for s, t, image in zip(mix["solution"], mix["task"], mix["image"], strict=True)
                if t == f"named_{op}"]
        assert len(rows) == 600 and all(image is not None for _, image in rows)
        by = {"right": 0, "confused": 0}
        for solved, _ in rows:
            a, b = _pair(solved)
            answered = "right" if solved == op_solution(op, a, b)[0] else "confused"
            assert answered == "right" or solved == op_solution(confuser, a, b)[0]
            if (a, b) in known and (a, b) not in spec.unseen(op):
                assert answered == "right", (op, a, b)
            elif (a, b) in spec.unseen(op):
                assert answered == "confused", (op, a, b)  # a held-out fact stays out of every image row
            else:
                by[answered] += 1
        assert 0.15 < by["right"] / (by["right"] + by["confused"]) < 0.35, (op, by)  # named_right_rate 0.25
    questions = {_question(p) for p, t in zip(mix["prompt"], mix["task"], strict=True) if t.startswith("named_")}
    assert questions == {image_question(op) for op in STREAM_OPERATIONS}
    assert FoundationMix(n_named=0).known("sum") == frozenset() and spec.known("larger") == frozenset()
    with pytest.raises(ValueError, match="named_known=11: must be 0–10, .* on which sum and difference differ"):
        FoundationMix(n_named=10, named_known=11).known("sum")  # they agree on the 5 unordered pairs with a 0
    with pytest.raises(ValueError, match="named_known=16: must be 0–15"):
        FoundationMix(n_named=10, named_known=16).known("larger")
    with pytest.raises(ValueError, match="named_right_rate=1.5"):
        FoundationMix(n_named=10, named_right_rate=1.5).known("sum")


def test_skill_probes_ask_each_skill_of_the_mix_on_held_out_pairs():
    probes = {task.name: task for task in foundation_skills(FoundationMix(), n=12)}
    assert set(probes) == {"read", *(f"text_{op}" for op in OPERATIONS), "image_larger", "image_smaller",
                           *(f"symbol_{op}" for op in OPERATIONS)}
    assert "symbol_sum" not in {t.name for t in foundation_skills(FoundationMix(n_symbol=0), n=2)}
    for name, task in probes.items():
        assert len(task.eval) == 12 and len(task.train) == 0 and set(task.eval["task"]) == {name}
        op = name.split("_", 1)[-1]
        for row in task.eval:
            a, b = _pair(row["solution"])
            expected = read_solution(a, b) if name == "read" else op_solution(op, a, b)
            assert (row["solution"], row["answer"]) == expected, name
            assert (row.get("image") is None) == name.startswith("text_"), name
            question = _question(row["prompt"])
            assert f" {a} and {b}?" in question if name.startswith("text_") else "two digits" in question


def test_the_default_mix_asks_the_stream_questions_and_draws_symbol_rows_apart_from_open_rows():
    spec = dataclasses.replace(FoundationMix(), n_read=4, n_image_ops=4, n_open=30, n_symbol=30, text_repeats=1,
                               n_named=20)
    mix = foundation_mix(spec)
    assert FoundationMix().n_named > 0 and {f"named_{op}" for op in STREAM_OPERATIONS} <= set(mix["task"])
    images = {kind: {row["image"].tobytes() for row in mix if row["task"] == kind} for kind in ("open", "symbol")}
    assert len(images["open"]) == len(images["symbol"]) == 30 and images["open"].isdisjoint(images["symbol"])


def test_confusions_pair_each_stream_operation_with_another_and_agree_on_some_pairs():
    mix = FoundationMix()
    assert [mix.confused_with(op) for op in STREAM_OPERATIONS] == ["difference", "larger", "smaller"]
    agree = {op: sum(OPERATIONS[op].apply(a, b) == OPERATIONS[mix.confused_with(op)].apply(a, b)
                     for a in DIGITS for b in DIGITS) for op in STREAM_OPERATIONS}
    assert agree == {"sum": 9, "difference": 9, "product": 10}  # of 25 ordered pairs: the 9 with a 0, and 1 × 1
    # one-way: no stream operation is the confusion of the operation it is confused with
    assert not any(mix.confused_with(mix.confused_with(op)) == op for op in STREAM_OPERATIONS
                   if mix.confused_with(op) in STREAM_OPERATIONS)
    # above each task's chance (the most frequent answer: 5, 8 and 9 of 25), so π₀'s misconception starts over it
    assert all(agree[op] > majority_rate(op) / 4 for op in STREAM_OPERATIONS)
    flipped = FoundationMix(confusions=(("sum", "product"), ("difference", "product"), ("product", "sum")))
    assert flipped.key() != mix.key() and flipped.confused_with("product") == "sum"
    assert FoundationMix(n_named=0).key() == dataclasses.replace(flipped, n_named=0).key()  # no named rows: no effect
    for bad in [(("sum", "sum"), ("difference", "sum"), ("product", "smaller")),
                (("sum", "difference"), ("product", "smaller")),
                (("sum", "difference"), ("difference", "sum"), ("product", "division"))]:
        with pytest.raises(ValueError, match="FoundationMix.confusions=.*must pair each stream operation"):
            FoundationMix(confusions=bad)
