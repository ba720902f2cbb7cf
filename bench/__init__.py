"""Benchmarks that print figures; never assertions on time.

Run them with ``make bench`` (all) or ``make bench ONLY=<name>`` (one), i.e. ``python -m bench [--only NAME]``.

A benchmark is a module of this package whose name does not start with ``_`` and that exposes

* ``NAME``: the prefix of its figures (the module name, by convention), and
* ``run() -> list[tuple[str, float, str]]``: ``(figure, value, unit)`` triples.

The runner prints each figure on its own line as ``<benchmark>.<figure>: <number> <unit>``
(``http_stack.healthz_rps: 1234.5 1/s``); that format is an interface outside checks rely on
(DESIGN.md). A figure without a finite value (NaN: a percentile of no successful requests) is left out
with a note on stderr. Progress messages go to stderr. Every benchmark bounds itself in work (requests, rows)
and in wall time, and raises :class:`bench._support.Skip` when a service it needs does not answer:
the runner then prints ``<benchmark>: skipped (<reason>)`` and carries on (exit status 0).
"""
