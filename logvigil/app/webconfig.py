"""The `web:` section: where `logvigil web` (and the daemon, when set) serves its pages.

    web:
      listen: 127.0.0.1:8765     # the daemon serves the pages when this is set
      # token: from LOGVIGIL_WEB_TOKEN, never written in the file

Loopback only unless a token is configured: listening on any other address without
one is refused with an error naming `web.listen`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from logvigil.core.configbase import Strict
from logvigil.core.net import is_loopback

DEFAULT_LISTEN = "127.0.0.1:8765"


def split_listen(value: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::1]:8765` for IPv6) as (host, port); raises ValueError."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r}: expected HOST:PORT, e.g. 127.0.0.1:8765")
    return host.strip("[]"), int(port)


class WebConfig(Strict):
    # The token first: `listen` is checked against it.
    token: SecretStr | None = None
    listen: Annotated[str | None, Field(description="HOST:PORT to serve the pages on")] = None

    @field_validator("listen")
    @classmethod
    def _safe(cls, listen: str | None, info: ValidationInfo) -> str | None:
        if listen is not None:
            check_listen(listen, info.data.get("token"))
        return listen


def check_listen(listen: str, token: SecretStr | str | None) -> tuple[str, int]:
    """(host, port) of `listen`; raises ValueError for a bad form, or for an address other
    than loopback without a token."""
    host, port = split_listen(listen)
    secret = token.get_secret_value() if isinstance(token, SecretStr) else token
    if not is_loopback(host) and not secret:
        raise ValueError(
            f"{listen!r} is not a loopback address: set a token (LOGVIGIL_WEB_TOKEN) "
            "before serving the pages to other machines"
        )
    return host, port
