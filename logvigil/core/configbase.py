"""The base of every configuration model, and the value types configs share.

Every section of `logvigil.yaml` (and of `inventory.yaml`, scenario files and tool
arguments) is a `Strict` model: an unknown key is an error with a "did you mean"
(`yamlfile.problems_from_validation`), and a loaded value cannot change.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from logvigil.core.events import Severity


class Strict(BaseModel):
    """Base of every config model: unknown keys are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


PositiveInt = Annotated[int, Field(gt=0)]


def _parse_severity(value: Any) -> Any:
    if isinstance(value, str):
        return Severity.parse(value)
    return value


#: A severity in config: a name (`error`, `warn`) or a `Severity`; dumped as its label.
SeverityName = Annotated[
    Severity,
    BeforeValidator(_parse_severity),
    PlainSerializer(lambda s: s.label, return_type=str),
]
