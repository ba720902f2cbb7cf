"""SKU combinations from a product's specs: colour × size → one SKU per pair."""

from __future__ import annotations

from itertools import product as cartesian
from typing import Any

MAX_SKUS_PER_PRODUCT = 600


def normalise_specs(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Trim names and values, drop empty ones and duplicates, keep the merchant's order."""
    result = []
    seen_names: set[str] = set()
    for spec in specs:
        name = str(spec.get("name", "")).strip()
        if not name or name in seen_names:
            continue
        values: list[str] = []
        for value in spec.get("values", []):
            text = str(value).strip()
            if text and text not in values:
                values.append(text)
        if values:
            seen_names.add(name)
            result.append({"name": name, "values": values})
    return result


def combinations(specs: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Every combination as an ordered {spec name: value}; a product without specs has one empty combination."""
    specs = normalise_specs(specs)
    if not specs:
        return [{}]
    names = [s["name"] for s in specs]
    return [dict(zip(names, values, strict=True)) for values in cartesian(*(s["values"] for s in specs))]


def spec_key(values: dict[str, str]) -> str:
    """A stable key for one combination, independent of dict order: ``尺码:M|颜色:红``."""
    return "|".join(f"{name}:{values[name]}" for name in sorted(values))


def combination_count(specs: list[dict[str, Any]]) -> int:
    count = 1
    for spec in normalise_specs(specs):
        count *= len(spec["values"])
    return count
