"""The `notify.email` section: one SMTP server, a sender and its recipients."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator

from notify.base import ChannelConfig
from notify.email.tls import tls_client_context


class EmailConfig(ChannelConfig):
    """The `notify.email` section: one SMTP server, a sender and its recipients.

    The server's certificate is always verified (STARTTLS and TLS); nothing
    turns that off. `ca_file` is a PEM bundle of the CAs to trust instead of
    the system's store, for a mail server with a certificate of an internal CA.
    It is read when the config is loaded (a missing or invalid file is a config
    error) and again for each delivery.
    """

    host: str
    port: Annotated[int, Field(gt=0, lt=65536)] = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    user: str | None = None
    password: SecretStr | None = None
    sender: str = Field(alias="from")
    to: Annotated[list[str], Field(min_length=1)]
    ca_file: Path | None = Field(
        default=None,
        description="PEM bundle of the CAs that sign the server's certificate; "
        "default: the system's store",
    )

    @field_validator("ca_file")
    @classmethod
    def _readable_pem(cls, v: Path | None) -> Path | None:
        if v is not None:
            # CAFileError is a ValueError: pydantic reports it at notify.email.ca_file.
            # Its message names the whole absolute path (the `got:` of a config error is cut).
            tls_client_context(v)
        return v
