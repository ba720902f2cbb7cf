"""Domain errors with stable codes, and their two renderings: a flash sentence and problem JSON."""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext "no-op" marker for pybabel
    """Mark a string for translation without translating it yet (class attributes, data)."""
    return message


class DomainError(Exception):
    """A business rule refused the request. ``code`` is stable (``stock.insufficient``); ``facts`` say why."""

    code = "error"
    status = 400
    message = N_("The request was refused.")

    def __init__(self, message: str | None = None, **facts: Any) -> None:
        self.facts = facts
        super().__init__(message or self.message.format(**facts))

    @property
    def text(self) -> str:
        """The sentence for a person, in the current language when a translation exists."""
        if self.args and self.args[0] != self.message.format(**self.facts):
            return str(self)  # a custom message given at the raise site
        try:
            from flask_babel import gettext

            return gettext(self.message).format(**self.facts)
        except (RuntimeError, KeyError):  # outside a request, or a translation lost a placeholder
            return str(self)

    def problem(self) -> dict[str, Any]:
        """RFC 9457 problem details for the API."""
        return {
            "type": f"urn:marketplace:error:{self.code}",
            "title": self.text,
            "status": self.status,
            "code": self.code,
            **({"facts": self.facts} if self.facts else {}),
        }


class NotFound(DomainError):
    code = "not_found"
    status = 404
    message = N_("Not found.")


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    message = N_("You do not have permission to do this.")


class ValidationFailed(DomainError):
    """Field-level input errors: ``fields`` maps a field name to its messages."""

    code = "validation_failed"
    status = 422
    message = N_("Some fields are not valid.")

    def __init__(self, fields: dict[str, list[str]], message: str | None = None) -> None:
        super().__init__(message)
        self.fields = fields

    @property
    def text(self) -> str:
        """What is wrong, field by field, as one sentence for a flash or a scan panel."""
        try:
            from flask_babel import gettext

            said = " ".join(gettext(m) for messages in self.fields.values() for m in messages)
        except RuntimeError:  # outside a request
            said = " ".join(m for messages in self.fields.values() for m in messages)
        return said or super().text

    def problem(self) -> dict[str, Any]:
        """The problem's title stays the generic sentence; the fields' messages are in ``errors``."""
        return {**super().problem(), "title": super().text, "errors": self.fields}
