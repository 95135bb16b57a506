"""The backtested homelab incidents for the `investigate` command's tests."""

from homelab_incidents import find_incident, homelab_db, incident_db  # noqa: F401 - fixtures
