"""The e-mail channel: `config` (the `notify.email` section), `tls` (the verifying client
context and `ca_file`), `render` (the HTML alternative) and `notifier` (SMTP)."""

from __future__ import annotations

from notify.email.config import EmailConfig
from notify.email.notifier import EmailNotifier
from notify.email.tls import CAFileError, tls_client_context

__all__ = ["CAFileError", "EmailConfig", "EmailNotifier", "tls_client_context"]
