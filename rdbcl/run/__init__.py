"""A run and what it leaves: the stream loop, the run directory it continues from, evaluation, the continual metrics,
the report, the comparison of runs and the sweep that launches them. The top of the stack below ``rdbcl.train``."""
