"""Continual methods, selected by ``method:`` in a recipe."""

from rdbcl.methods import grpo as _grpo  # noqa: F401  (registers)
from rdbcl.methods import rdbcl as _rdbcl  # noqa: F401  (registers)
from rdbcl.methods.base import ContinualMethod, TaskContext, available_methods, get_method, register_method


__all__ = ["ContinualMethod", "TaskContext", "available_methods", "get_method", "register_method"]
