"""LLaVA-style caption files (UCIT's VizWiz-Caption and Flickr30k): each row's reference captions, and the split's
reference corpus registered with the ``cider`` reward, whose document frequencies are corpus statistics.

Train files are LLaVA conversations whose gpt turn is one caption (one reference per row). Test files are
``{question_id, image, text}`` rows whose references live in a COCO caption annotation (``source.references``:
``{"images": [{"id", "file_name"}], "annotations": [{"image_id", "caption"}]}``) matched by position — row ``i`` is
image ``i + 1``, as UCIT's ``eval_caption.py`` numbers its predictions — and checked by file name where the annotation
gives one. Without ``references`` a test row's own answer field (one caption or a list) is its references.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from reward_fns.caption import register_references
from task_streams.adapters.base import RawSample, register_adapter
from task_streams.adapters.llava import LlavaAdapter, source_file
from task_streams.data_error import DataError


_REFERENCES = "_references"  # key under which records() hands each row's references to sample()


def coco_references(file: Path, n_rows: int) -> tuple[list[list[str]], dict[int, str]]:
    """References of images 1..n_rows from a COCO caption annotation, and each image's file name where given."""
    try:
        data = json.loads(file.read_text())
        annotations = data["annotations"]
        images = data.get("images", [])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError, KeyError) as exc:
        raise DataError(file, None, "annotations", f"not a COCO caption annotation file: {exc}") from exc
    captions: dict[int, list[str]] = defaultdict(list)
    for k, item in enumerate(annotations):
        if not isinstance(item, dict) or not isinstance(item.get("image_id"), int) or \
                not isinstance(item.get("caption"), str) or not item["caption"].strip():
            raise DataError(file, k, "annotations", f"expected {{image_id: int, caption: str}}, got {item!r}")
        captions[item["image_id"]].append(item["caption"])
    names = {img["id"]: str(img["file_name"]) for img in images if isinstance(img, dict) and "file_name" in img}
    missing = [i for i in range(1, n_rows + 1) if not captions.get(i)]
    if missing:
        raise DataError(file, None, "annotations", f"no caption for image_id {missing[:5]} of the {n_rows} test "
                        "rows (row i is image_id i + 1)")
    return [captions[i] for i in range(1, n_rows + 1)], names


@register_adapter
class LlavaCaptionAdapter(LlavaAdapter):
    name = "llava_caption"

    def records(self, task, source, data_root: Path | None) -> tuple[Path, list]:
        file, rows = super().records(task, source, data_root)
        if source.references:
            ref_file = source_file(type(source)(path=source.references, hub=source.hub), data_root, task.name)
            references, names = coco_references(ref_file, len(rows))
        else:
            references, names = [self._own_references(row, task) for row in rows], {}
        out = []
        for i, (row, refs) in enumerate(zip(rows, references, strict=True)):
            if isinstance(row, dict):
                expected = names.get(i + 1)
                if expected is not None and isinstance(row.get("image"), str) and \
                        Path(row["image"]).name != Path(expected).name:
                    raise DataError(file, i, "image", f"{row['image']!r} is not image_id {i + 1} of "
                                    f"{source.references} ({expected!r}): the annotation does not follow this file")
                row = {**row, _REFERENCES: refs}
            out.append(row)
        register_references([r for r in references if r])
        return file, out

    @staticmethod
    def _own_references(row, task) -> list[str]:
        """A row's references from the row itself: the gpt turn (train) or the answer field (test); [] if unusable
        (``sample`` then reports the row)."""
        if not isinstance(row, dict):
            return []
        if "conversations" in row:
            turns = row["conversations"]
            value = turns[1].get("value") if isinstance(turns, list) and len(turns) > 1 and \
                isinstance(turns[1], dict) else None
            return [value.strip()] if isinstance(value, str) and value.strip() else []
        value = row.get(task.answer_field)
        values = value if isinstance(value, list) else [value]
        return [str(v) for v in values if isinstance(v, (str, int, float)) and str(v).strip()]

    def sample(self, record, task, file: Path, row: int) -> RawSample:
        if isinstance(record, dict) and "conversations" not in record and record.get(_REFERENCES):
            record = {**record, task.answer_field: record[_REFERENCES]}  # the test row's answer: its references
        raw = super().sample(record, task, file, row)
        if isinstance(record, dict) and record.get(_REFERENCES):
            raw.answer = list(record[_REFERENCES])
        raw.response = False  # a caption is the answer itself, no final-answer extraction
        return raw
