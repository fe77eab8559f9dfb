"""Continual methods, selected by ``method:`` in a recipe."""

from rdbcl.methods import ewc as _ewc  # noqa: F401  (each import registers its method)
from rdbcl.methods import grpo as _grpo  # noqa: F401
from rdbcl.methods import grpo_replay as _grpo_replay  # noqa: F401
from rdbcl.methods import lwf as _lwf  # noqa: F401
from rdbcl.methods import mm_ewc as _mm_ewc  # noqa: F401
from rdbcl.methods import moelora as _moelora  # noqa: F401
from rdbcl.methods import olora as _olora  # noqa: F401
from rdbcl.methods import rapo as _rapo  # noqa: F401
from rdbcl.methods import rdbcl as _rdbcl  # noqa: F401
from rdbcl.methods import replay as _replay  # noqa: F401
from rdbcl.methods import sft as _sft  # noqa: F401
from rdbcl.methods.base import ContinualMethod, TaskContext, available_methods, get_method, register_method


__all__ = ["ContinualMethod", "TaskContext", "available_methods", "get_method", "register_method"]
