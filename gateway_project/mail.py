"""Where mail goes when no SMTP server is configured and DEBUG is off.

Sign-up codes, invitation links and password resets carry secrets: printed to
the server's output, as in development, they would land in production logs.
This backend sends nothing and logs one line per message, naming neither its
recipients nor its content, so the operator sees that EMAIL_HOST is missing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger(__name__)


class UnsentMailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for _ in email_messages:
            logger.error("mail not sent: EMAIL_HOST is not set")
        return 0
