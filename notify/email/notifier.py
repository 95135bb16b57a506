"""E-mail over SMTP: plain text with an HTML alternative, STARTTLS, TLS or none.

Every network step has a timeout. Answers map to `NotifyError`: refused login
(535) and refused recipients or sender (5xx) are permanent; 4xx answers and
network failures are transient; a failure after the message body was handed
over (the final `.` of DATA) without the server's answer is in doubt.

With STARTTLS and TLS the server's certificate and host name are always
verified, against the system's CA store or the PEM bundle `ca_file`; nothing
turns that off. A certificate that fails verification is permanent (a wrong
`ca_file` or `host`, or someone in between: retrying cannot help). The
password comes from the config (`LOGVIGIL_SMTP_PASSWORD`) and is never written
into a message or log record.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import ClassVar

from notify.base import (
    Committing,
    Notification,
    NotifyError,
    describe_error,
    no_commit,
    scrub,
)
from notify.email.config import EmailConfig
from notify.email.render import PICTURE_CID, mail_subject, render_html, render_plain
from notify.email.tls import CAFileError, tls_client_context

#: Seconds for connecting and for each SMTP command.
TIMEOUT_SECONDS = 15.0
#: RFC 5322 recommends header lines under 78 characters; subjects are folded, but kept short.
SUBJECT_MAX = 200
#: OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH and X509_V_ERR_IP_ADDRESS_MISMATCH.
_NAME_MISMATCH = frozenset({62, 64})


class EmailNotifier:
    """Sends one message per notification to every address of `to`."""

    name = "email"
    config_model: ClassVar[type[EmailConfig]] = EmailConfig

    def __init__(
        self,
        host: str,
        port: int,
        security: str,
        sender: str,
        to: list[str],
        user: str | None = None,
        password: str | None = None,
        *,
        timeout: float = TIMEOUT_SECONDS,
        ca_file: str | Path | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """`ca_file`: PEM bundle of the CAs to trust instead of the system's store, read
        for each delivery. `ssl_context`: a client context to use instead (it must
        verify the certificate and the host name)."""
        self.host, self.port, self.security = host, port, security
        self.sender, self.to = sender, list(to)
        self.user = user
        self._password = password
        self.timeout = timeout
        self.ca_file = Path(ca_file) if ca_file is not None else None
        if ssl_context is not None and (
            ssl_context.verify_mode != ssl.CERT_REQUIRED or not ssl_context.check_hostname
        ):
            raise ValueError("the e-mail notifier always verifies the server's certificate")
        self.ssl_context = ssl_context

    @classmethod
    def from_config(cls, config: EmailConfig) -> EmailNotifier:
        return cls(
            config.host,
            config.port,
            config.security,
            config.sender,
            config.to,
            config.user,
            config.password.get_secret_value() if config.password is not None else None,
            ca_file=config.ca_file,
        )

    def __repr__(self) -> str:
        return f"EmailNotifier(host={self.host!r}, port={self.port}, password=***)"

    def _error(self, message: str, **kw) -> NotifyError:
        return NotifyError(scrub(message, [self._password]), **kw)

    def build(self, n: Notification) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = mail_subject(n)[:SUBJECT_MAX]
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain="logvigil")
        msg.set_content(render_plain(n))
        msg.add_alternative(render_html(n), subtype="html")
        if n.picture:
            html_part = msg.get_payload()[-1]
            html_part.add_related(
                n.picture,
                "image",
                "png",
                cid=f"<{PICTURE_CID}>",
                filename="incident.png",
                disposition="inline",
            )
        return msg

    def send(self, notification: Notification, committing: Committing = no_commit) -> str | None:
        """Send `notification`; returns the Message-ID. Raises NotifyError."""
        msg = self.build(notification)
        try:
            smtp = self._connect()
        except NotifyError:
            raise
        except ssl.SSLCertVerificationError as exc:
            hint = (
                "`host` must be a name the certificate holds"
                if exc.verify_code in _NAME_MISMATCH
                else "a server with a certificate of a private CA needs that CA in "
                "notify.email.ca_file"
            )
            raise self._error(
                f"certificate verification of the mail server {self.host}:{self.port} failed: "
                f"{(exc.verify_message or describe_error(exc)).rstrip('.')} ({hint})",
                permanent=True,
            ) from None
        except ssl.SSLError as exc:
            raise self._error(
                f"TLS with {self.host}:{self.port} failed: {describe_error(exc)} (security: "
                f"{self.security}; implicit TLS is usually port 465, STARTTLS 587)"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise self._error(
                f"cannot connect to {self.host}:{self.port}: {describe_error(exc)}"
            ) from None
        committed = False
        try:
            try:
                self._login(smtp)
                committing()
                committed = True
                smtp.send_message(msg)
            except smtplib.SMTPRecipientsRefused as exc:
                codes = sorted({code for code, _ in exc.recipients.values()})
                raise self._error(
                    f"the mail server refused every recipient ({codes})",
                    permanent=all(c >= 500 for c in codes),
                ) from None
            except smtplib.SMTPSenderRefused as exc:
                raise self._error(
                    f"the mail server refused the sender: {exc.smtp_code}",
                    permanent=exc.smtp_code >= 500,
                ) from None
            except smtplib.SMTPDataError as exc:
                raise self._error(
                    f"the mail server refused the message: {exc.smtp_code}",
                    permanent=exc.smtp_code >= 500,
                ) from None
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                # Once the message is being handed over the server may have queued it.
                raise self._error(
                    f"the mail server closed the connection: {describe_error(exc)}",
                    in_doubt=committed,
                ) from None
            except smtplib.SMTPException as exc:
                raise self._error(f"SMTP error: {describe_error(exc)}") from None
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
        return str(msg["Message-ID"])

    def _tls_context(self) -> ssl.SSLContext:
        if self.ssl_context is not None:
            return self.ssl_context
        try:
            return tls_client_context(self.ca_file)
        except CAFileError as exc:  # the file changed since the config was loaded
            raise self._error(f"notify.email.ca_file: {exc}", permanent=True) from None

    def _connect(self) -> smtplib.SMTP:
        context = self._tls_context() if self.security != "none" else None
        if self.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise self._error(
                        "the mail server does not offer STARTTLS (security: starttls)",
                        permanent=True,
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _login(self, smtp: smtplib.SMTP) -> None:
        if not self.user:
            return
        try:
            smtp.login(self.user, self._password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise self._error(
                f"the mail server refused the login of {self.user!r} ({exc.smtp_code})",
                permanent=exc.smtp_code >= 500,
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise self._error(
                "the mail server does not offer AUTH (remove `user` or enable TLS)", permanent=True
            ) from None
