"""Layer 8, derivation checks: one module per topic (the groups of syllabus §3) and a registry
mapping each check id to its function and chapters. ``run_checks(chapter)`` runs a chapter's."""

from .registry import REGISTRY, Check, Report, load_all, run_checks

__all__ = ["REGISTRY", "Check", "Report", "load_all", "run_checks"]
