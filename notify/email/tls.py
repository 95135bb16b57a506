"""TLS for the mail server: a client context that always verifies, from the system's
CA store or a PEM bundle (`notify.email.ca_file`)."""

from __future__ import annotations

import os
import ssl


class CAFileError(ValueError):
    """`ca_file` cannot be used; the message names the file (absolute path) and why."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"the CA file {os.path.abspath(path)} {reason}")


def tls_client_context(ca_file: str | os.PathLike[str] | None = None) -> ssl.SSLContext:
    """A client context that verifies the server's certificate and host name.

    It trusts the CAs of the PEM bundle `ca_file` instead of the system's store
    (as `ssl.create_default_context(cafile=...)` does), or the system's store
    without one. Raises CAFileError when the file is missing, unreadable or
    holds no PEM certificate.
    """
    if ca_file is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=os.fspath(ca_file))
    except FileNotFoundError:
        raise CAFileError(ca_file, "does not exist") from None
    except ssl.SSLError as exc:
        what = (
            "no -----BEGIN CERTIFICATE----- block"
            if exc.reason == "NO_CERTIFICATE_OR_CRL_FOUND"
            else "a certificate block that cannot be parsed"
        )
        raise CAFileError(ca_file, f"is not a PEM bundle of CA certificates ({what})") from None
    except OSError as exc:
        raise CAFileError(ca_file, f"cannot be read: {exc.strerror or exc}") from None
