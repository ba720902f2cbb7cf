"""Jobs of the notifications queue."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

from marketplace.core.jobs import job
from marketplace.extensions import db
from marketplace.notifications.models import SentMessage

log = logging.getLogger(__name__)


@job("notifications", timeout=30)
def send_email(to: str, subject: str, body: str) -> None:
    """Send through SMTP when ``SMTP_HOST`` is set; always keep a copy (the development mailbox)."""
    host = current_app.config["SMTP_HOST"]
    if host:
        message = EmailMessage()
        message["From"] = current_app.config["MAIL_FROM"]
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        with smtplib.SMTP(host, current_app.config["SMTP_PORT"], timeout=20) as smtp:
            smtp.send_message(message)
    else:
        log.info("email to %s: %s\n%s", to, subject, body)
    db.session.add(SentMessage(channel="email", recipient=to, subject=subject, body=body))
