"""The profiling lens: where the extra CPU of N workers goes, kept apart from the timings.

Where the code runs:

- :mod:`~harness.profile.cli` and :mod:`~harness.profile.record` on the host, where perf runs
  (stdlib only, like ``harness.provision``);
- :mod:`~harness.profile.target` in the variant's benchmark venv, under ``perf record``;
- everything else (:mod:`~harness.profile.stacks`, :mod:`~harness.profile.categories`,
  :mod:`~harness.profile.attribution`, :mod:`~harness.profile.pysource`,
  :mod:`~harness.profile.flamegraph`, :mod:`~harness.profile.outputs`, :mod:`~harness.profile.text`)
  is stdlib-only text processing that runs anywhere, the analysis included.

The campaign never reads a profile and a profile never holds a benchmark's timing.
"""
