"""What every handheld scan screen shares: one-time scan tokens (a scanner's double Enter counts once), the
quantity field, matching a scanned code to a SKU, scan lists kept in Redis, and leaving an htmx page."""

from __future__ import annotations

import secrets

import redis
from flask import redirect

from marketplace.catalog.models import Sku
from marketplace.core.jobs import redis_connection
from marketplace.extensions import htmx
from marketplace.inventory.models import MAX_UNITS

TTL = 12 * 3600  # scan tokens and scan lists live through a shift


def new_token() -> str:
    return secrets.token_urlsafe(16)


def claim_scan(token: str) -> bool:
    """True the first time a scan token is seen (the scan is new); False for a repeat."""
    if not token or len(token) > 64:
        return False
    return bool(redis_connection().set(f"wms:scan:{token}", 1, nx=True, ex=TTL))


def release_scan(token: str) -> None:
    """A refused scan may be sent again with the same token."""
    redis_connection().delete(f"wms:scan:{token}")


def scanned_quantity(value: str | None) -> int | None:
    """The quantity field: empty means one unit; None when it is not a whole number in range."""
    value = (value or "").strip()
    if not value:
        return 1
    return int(value) if value.isdigit() and 0 < int(value) <= MAX_UNITS else None


def matches(sku: Sku, scanned: str) -> bool:
    value = scanned.strip().upper()
    return value in {(sku.barcode or "").upper(), sku.code.upper()}


def add_scan(key: str, sku_id: int, quantity: int, damaged: bool) -> None:
    """Count a scan into the Redis list at ``key`` (``q``: all units, ``d``: of them damaged), atomically."""
    pipe = redis_connection().pipeline()
    pipe.hincrby(key, f"q:{sku_id}", quantity)
    if damaged:
        pipe.hincrby(key, f"d:{sku_id}", quantity)
    pipe.expire(key, TTL)
    pipe.execute()


def scan_list(key: str) -> dict[int, tuple[int, int]]:
    """{sku id: (units scanned, of them damaged)} of a scan list kept in a Redis hash."""
    raw = redis_connection().hgetall(key)
    counts: dict[int, list[int]] = {}
    for field, value in raw.items():
        kind, sku_id = field.decode().split(":")
        counts.setdefault(int(sku_id), [0, 0])[0 if kind == "q" else 1] = int(value)
    return {sku_id: (q, d) for sku_id, (q, d) in counts.items()}


def take_for_booking(key: str) -> str | None:
    """Rename the scan list for booking: whoever renames it first books it (a double "Book" books once).
    Returns the list's new key, or None when there is nothing (left) to book."""
    booking = f"{key}:booking:{new_token()}"
    try:
        redis_connection().rename(key, booking)
    except redis.ResponseError:
        return None
    return booking


def give_back(booking: str, key: str) -> None:
    """The booking was refused: the scan list is the worker's again, as it was."""
    redis_connection().rename(booking, key)


def drop(key: str) -> None:
    """A booked or discarded scan list."""
    redis_connection().delete(key)


def leave(url: str):
    """Leave the handheld page: a full redirect, also when the request came from htmx."""
    if htmx:
        return "", 200, {"HX-Redirect": url}
    return redirect(url)
