"""Navigation entries, as data: each portal lists its sections and the permission that shows them."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    permission: str


def install_nav(bp: Blueprint, items: list[NavItem]) -> None:
    @bp.context_processor
    def nav_context():
        return {"nav_items": items}
