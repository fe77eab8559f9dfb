"""Image paths from released annotation files: resolved under the dataset's image root, never outside it."""

from __future__ import annotations

from pathlib import Path

from task_streams.data_error import DataError


def resolve_image(root: Path, relative, file: Path, row: int, field_name: str = "image") -> str:
    """The absolute path of a row's image. Rejects non-strings, paths escaping ``root`` and missing files.

    Only the path is checked here (a ``stat``); images are decoded lazily when a sample is used, so a stream of
    many large tasks never holds its images in memory. ``python -m task_streams check`` also decodes each image.
    """
    if not isinstance(relative, str) or not relative.strip():
        raise DataError(file, row, field_name, f"expected an image path (string), got {relative!r}")
    root = root.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise DataError(file, row, field_name, f"{relative!r} resolves outside the image root {root}")
    if not path.is_file():
        raise DataError(file, row, field_name, f"image {relative!r} not found under {root}")
    return str(path)


def unreadable(path: str) -> str | None:
    """Why the image at ``path`` cannot be decoded, or None when it can."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.verify()
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None
