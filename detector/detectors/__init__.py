"""The detectors: pure functions from a window of per-minute counts to findings.

`DETECTORS` is the explicit registry (name -> class); `DetectorsConfig` is the
`detector:` section of the config file, one sub-section per detector plus the
learning period they share; `build_detectors` turns it into the detectors in
force. See `docs/detectors.md`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from detector.detectors._common import DEFAULT_LEARNING_HOURS, DetectorConfig
from detector.detectors.base import (
    MINUTE,
    CountRow,
    Detector,
    ServiceInfo,
    State,
    Window,
)
from detector.detectors.error_spike import ErrorSpike, ErrorSpikeConfig
from detector.detectors.new_template import NewTemplate, NewTemplateConfig
from detector.detectors.primitive import (
    PRIMITIVES,
    Primitive,
    PrimitiveConfig,
    PrimitiveDetector,
    PrimitiveSpec,
)
from detector.detectors.silence import Silence, SilenceConfig

#: Every detector, by name. Order is the order a tick runs them in.
DETECTORS: dict[str, type] = {
    ErrorSpike.name: ErrorSpike,
    NewTemplate.name: NewTemplate,
    Silence.name: Silence,
    PrimitiveDetector.name: PrimitiveDetector,
}


class DetectorsConfig(DetectorConfig):
    """The `detector:` section: one sub-section per detector, and the learning period.

    `learning_period_hours` is how long a service is observed before its
    spikes and new templates count; a detector's own `learning_period_hours`
    overrides it. Primitives never learn.
    """

    error_spike: ErrorSpikeConfig = ErrorSpikeConfig()
    new_template: NewTemplateConfig = NewTemplateConfig()
    silence: SilenceConfig = SilenceConfig()
    primitive: PrimitiveConfig = PrimitiveConfig()
    learning_period_hours: Annotated[float, Field(ge=0, le=24 * 365)] = DEFAULT_LEARNING_HOURS


def build_detectors(configs: DetectorsConfig | Any = None) -> list[Detector]:
    """Return the enabled detectors, in `DETECTORS` order, built from `configs`.

    `configs` is a `DetectorsConfig`, or None for every default. Any other
    object is read by attribute (`error_spike`, ..., `learning_period_hours`),
    a missing one taking its default, so a config section that does not mount
    every detector yet still works. A detector's `learning_period_hours` left
    unset takes the section's.
    """
    c = configs if configs is not None else DetectorsConfig()
    hours = getattr(c, "learning_period_hours", DEFAULT_LEARNING_HOURS)
    spike = getattr(c, "error_spike", None) or ErrorSpikeConfig()
    new = getattr(c, "new_template", None) or NewTemplateConfig()
    silence = getattr(c, "silence", None) or SilenceConfig()
    prim = getattr(c, "primitive", None) or PrimitiveConfig()
    if spike.learning_period_hours is None:
        spike = spike.model_copy(update={"learning_period_hours": hours})
    if new.learning_period_hours is None:
        new = new.model_copy(update={"learning_period_hours": hours})
    out: list[Detector] = []
    if spike.enabled:
        out.append(ErrorSpike(spike))
    if new.enabled:
        out.append(NewTemplate(new))
    if silence.enabled:
        out.append(Silence(silence))
    if prim.enabled:
        out.append(PrimitiveDetector(prim))
    return out


__all__ = [
    "DETECTORS",
    "MINUTE",
    "PRIMITIVES",
    "CountRow",
    "Detector",
    "DetectorsConfig",
    "ErrorSpike",
    "ErrorSpikeConfig",
    "NewTemplate",
    "NewTemplateConfig",
    "Primitive",
    "PrimitiveConfig",
    "PrimitiveDetector",
    "PrimitiveSpec",
    "ServiceInfo",
    "Silence",
    "SilenceConfig",
    "State",
    "Window",
    "build_detectors",
]
