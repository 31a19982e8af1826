"""Triage of scan results: report.html, ``detector explain`` text and exports."""

from detector.triage.explain import explain_cluster
from detector.triage.export import write_exports
from detector.triage.html import write_report

__all__ = ["explain_cluster", "write_exports", "write_report"]
