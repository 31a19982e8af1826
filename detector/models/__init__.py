"""Scoring models shipped with the package (JSON; see :mod:`detector.model`)."""
