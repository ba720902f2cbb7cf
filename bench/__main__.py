"""``python -m bench [--only NAME]``: discover the benchmarks of this package, run them, print figures."""

from __future__ import annotations

import argparse
import importlib
import math
import pkgutil
import re
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType

from bench._support import Skip, log

_FIGURE = re.compile(r"^[a-z0-9_]+$")
_UNIT = re.compile(r"^\S+$")


def discover() -> dict[str, ModuleType]:
    """Every module of ``bench/`` not starting with ``_`` that has ``NAME`` and ``run``, by name."""
    found: dict[str, ModuleType] = {}
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda i: i.name):
        if info.name.startswith("_") or info.ispkg:
            continue
        module = importlib.import_module(f"bench.{info.name}")
        name = getattr(module, "NAME", None)
        if isinstance(name, str) and callable(getattr(module, "run", None)):
            found[name] = module
    return found


def format_number(value: float) -> str:
    if isinstance(value, bool):
        raise TypeError("a figure is a number, not a bool")
    if isinstance(value, int):
        return str(value)
    magnitude = abs(value)
    digits = 1 if magnitude >= 100 else 2 if magnitude >= 1 else 3
    return f"{value:.{digits}f}"


def format_figure(benchmark: str, figure: str, value: float, unit: str) -> str:
    if not _FIGURE.match(figure) or not _UNIT.match(unit):
        raise ValueError(f"{benchmark}: bad figure {figure!r} or unit {unit!r}")
    return f"{benchmark}.{figure}: {format_number(value)} {unit}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", metavar="NAME", help="run only this benchmark")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)

    benchmarks = discover()
    if args.list:
        for name, module in benchmarks.items():
            summary = (module.__doc__ or "").strip().splitlines()
            print(f"{name}: {summary[0] if summary else ''}")
        return 0
    if args.only:
        if args.only not in benchmarks:
            parser.error(f"no benchmark named {args.only!r}; known: {', '.join(benchmarks) or 'none'}")
        benchmarks = {args.only: benchmarks[args.only]}

    failed = []
    for name, module in benchmarks.items():
        started = time.monotonic()
        log(name, "starting")
        try:
            figures = module.run()
        except Skip as skip:
            print(f"{name}: skipped ({skip})", flush=True)
            continue
        except Exception:  # noqa: BLE001 - report it, run the other benchmarks, fail at the end
            traceback.print_exc()
            failed.append(name)
            continue
        for figure, value, unit in figures:
            if isinstance(value, float) and not math.isfinite(value):
                # e.g. a percentile of no successful requests: say so, never print a non-number
                log(name, f"{name}.{figure}: no value ({value}), left out")
                continue
            print(format_figure(name, figure, value, unit), flush=True)
        log(name, f"done in {time.monotonic() - started:.1f} s")
    if failed:
        print(f"benchmarks failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
