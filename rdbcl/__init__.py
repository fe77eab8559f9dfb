"""rdbcl: continual RLVR for multimodal LLMs, with per-sample KL anchoring by reasoning portability (RDB-CL)."""

from rdbcl.config import ContinualConfig, StreamArguments
from rdbcl.run.metrics import summarize


__all__ = ["ContinualConfig", "StreamArguments", "summarize"]
__version__ = "0.1.0"
