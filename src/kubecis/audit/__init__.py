"""Audit executors: native (in-process, over host/), and the real shell."""
