"""Snapshots of a product's approval-relevant fields, and the diff the reviewer reads.

A revision stores the proposed snapshot; the live one is read from the product. Both have the same shape, so
"is there a change?" is an equality and "what changed?" is :func:`diff`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from marketplace.catalog.specs import normalise_specs, spec_key

if TYPE_CHECKING:
    from marketplace.catalog.models import Product
    from marketplace.catalog.services import ProductInput


def live_snapshot(product: Product) -> dict[str, Any]:
    """The approval-relevant fields of the version on sale, in the same shape as a revision's data."""
    return {
        "title": product.title,
        "category_id": product.category_id,
        "brand_id": product.brand_id,
        "specs": product.specs,
        "images": [[i.key, i.width, i.height] for i in product.images],
        "skus": [
            {"spec_values": s.spec_values, "code": s.code, "price": s.price}
            for s in product.skus
            if s.is_active
        ],
    }


def proposed_snapshot(data: ProductInput) -> dict[str, Any]:
    return {
        "title": data.title.strip(),
        "category_id": data.category_id,
        "brand_id": data.brand_id,
        "specs": normalise_specs(data.specs),
        "images": [list(image) for image in data.images],
        "skus": [{"spec_values": s.spec_values, "code": s.code.strip(), "price": s.price} for s in data.skus],
    }


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """What a revision changes, field by field and SKU by SKU, for the reviewer."""
    changes = [
        Change(name, old.get(name), new.get(name))
        for name in ("title", "category_id", "brand_id", "specs")
        if old.get(name) != new.get(name)
    ]
    if [i[0] for i in old.get("images", [])] != [i[0] for i in new.get("images", [])]:
        changes.append(
            Change("images", [i[0] for i in old.get("images", [])], [i[0] for i in new.get("images", [])])
        )
    old_skus = {spec_key(s["spec_values"]): s for s in old.get("skus", [])}
    new_skus = {spec_key(s["spec_values"]): s for s in new.get("skus", [])}
    for key in list(dict.fromkeys([*old_skus, *new_skus])):
        before, after = old_skus.get(key), new_skus.get(key)
        label = f"sku {key or '(single)'}"
        if before is None:
            changes.append(Change(f"{label} added", None, after))
        elif after is None:
            changes.append(Change(f"{label} removed", before, None))
        else:
            for name in ("code", "price"):
                if before[name] != after[name]:
                    changes.append(Change(f"{label} {name}", before[name], after[name]))
    return changes
