"""Layer 8, exercises: the checker framework and one checker module per chapter (``ch01``, ``ch02``, ...)."""

from .framework import ERROR, FAIL, NOT_ATTEMPTED, PASS, TIMEOUT, Case, CheckResult, array_problem, run_exercise

__all__ = ["ERROR", "FAIL", "NOT_ATTEMPTED", "PASS", "TIMEOUT", "Case", "CheckResult", "array_problem",
           "run_exercise"]
