"""Jobs of the catalogue: they take ids and are safe to run twice."""

from __future__ import annotations

from marketplace.core.jobs import job
from marketplace.extensions import db

# Imports are long batch work: they share the settlement queue, not the notifications one (a 100,000-row file
# must not hold up password-reset mails). A dedicated "imports" queue belongs in core.jobs.QUEUES.
IMPORT_QUEUE = "settlement"


@job(IMPORT_QUEUE, timeout=1800)
def import_products(import_id: int) -> None:
    """Validate and import an uploaded product file (``marketplace.catalog.importer``)."""
    from marketplace.catalog.importer import run_import

    run_import(db.session, import_id)
