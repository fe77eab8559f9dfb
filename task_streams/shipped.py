"""The stream files shipped in ``task_streams/streams/``, registered under their file names."""

from __future__ import annotations

from pathlib import Path

from task_streams.base import TaskStream, register_stream


STREAMS_DIR = Path(__file__).parent / "streams"


def _builder(path: Path):
    def build(n_train: int = 2000, n_eval: int = 100, seed: int = 0, data_root: str | None = None,
              skip_invalid: bool | None = None, verifiable_only: bool = False) -> TaskStream:
        from task_streams.spec import load_stream_spec
        from task_streams.yaml_stream import build_stream

        return build_stream(load_stream_spec(path), data_root=data_root, n_train=n_train, n_eval=n_eval, seed=seed,
                            skip_invalid=skip_invalid, verifiable_only=verifiable_only)

    build.__doc__ = f"The stream declared in {path.name}."
    build.stream_file = path
    return build


for _path in sorted(STREAMS_DIR.glob("*.yaml")):
    register_stream(_path.stem)(_builder(_path))
