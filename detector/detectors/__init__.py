"""The detectors: pure functions from a window of per-minute counts to findings.

`DETECTORS` is the registry (name -> class), in the order a tick runs them. A
detector is one module (its frozen config model and its class, see `base.py`) plus
one line here: its config becomes the `detector.<name>:` section of the config file
(`DetectorsConfig` is built from the registry) and `build_detectors` builds it when
its `enabled` is true. See `docs/detectors.md`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, create_model

from detector.detectors._common import DEFAULT_LEARNING_HOURS
from detector.detectors.base import Detector
from detector.detectors.error_spike import ErrorSpike
from detector.detectors.host_unreachable import HostUnreachable
from detector.detectors.new_template import NewTemplate
from detector.detectors.primitive import PrimitiveDetector
from detector.detectors.reboot import UncleanRebootDetector
from detector.detectors.silence import SilenceDetector
from logvigil.core.configbase import Strict

#: Every detector, by name. Order is the order a tick runs them in.
DETECTORS: dict[str, type[Detector]] = {
    ErrorSpike.name: ErrorSpike,
    NewTemplate.name: NewTemplate,
    SilenceDetector.name: SilenceDetector,
    PrimitiveDetector.name: PrimitiveDetector,
    UncleanRebootDetector.name: UncleanRebootDetector,
    HostUnreachable.name: HostUnreachable,
}

#: Hours a service is observed before its spikes and new templates count; a detector's
#: own `learning_period_hours` overrides it. Primitives never learn.
LearningHours = Annotated[float, Field(ge=0, le=24 * 365)]


def detector_fields() -> dict[str, Any]:
    """One config field per registered detector (`error_spike: ErrorSpikeConfig`, ...),
    each defaulting to its config's defaults: for a model that mounts the detectors."""
    return {
        name: (cls.config_model, Field(default_factory=cls.config_model))
        for name, cls in DETECTORS.items()
    }


#: The detectors' part of the `detector:` section: the learning period they share
#: and one sub-section per detector.
DetectorsConfig = create_model(  # type: ignore[call-overload]
    "DetectorsConfig",
    __base__=Strict,
    __doc__="The learning period and one section per registered detector.",
    learning_period_hours=(LearningHours, DEFAULT_LEARNING_HOURS),
    **detector_fields(),
)


def build_detectors(config: DetectorsConfig | None = None) -> list[Detector]:
    """The enabled detectors, in `DETECTORS` order, built from `config` (None: every
    default). A detector's `learning_period_hours` left unset takes the section's."""
    c = config if config is not None else DetectorsConfig()
    hours = c.learning_period_hours
    out: list[Detector] = []
    for name, cls in DETECTORS.items():
        spec = getattr(c, name)  # the field `detector_fields` made for it
        if not spec.enabled:
            continue
        learns = "learning_period_hours" in type(spec).model_fields
        if learns and spec.learning_period_hours is None:
            spec = spec.model_copy(update={"learning_period_hours": hours})
        out.append(cls(spec))
    return out


__all__ = ["DETECTORS", "DetectorsConfig", "LearningHours", "build_detectors", "detector_fields"]
