"""Measuring: runs in the benchmark venv of an interpreter under test (pyperf; never pandas)."""
