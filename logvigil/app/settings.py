"""LogVigil's configuration: one YAML file, validated, with safe defaults.

`Settings` composes the sections each part of LogVigil owns: `database`
(`logvigil.store.config`), `sources` (the source registry, `logvigil.ingest.sources`),
`detector` (the tick, the noise rules of `logvigil.ingest.noise`, the detector
registry of `detector.detectors` and `detector.incidents.model`), `graph`
(`graph.config`), `llm` (`investigate.llm`), `notify` (`notify.config`) and
`metrics` (`logvigil.app.metrics`).

The file is found from `--config`, else `$LOGVIGIL_CONFIG`, else
`./logvigil.yaml` when it exists; with none of them every default applies, so
no file is needed to start. A few common keys can be overridden from the
environment (see `ENV_OVERRIDES`). Every error names the file, the line and
the dotted path of the field; library code raises `ConfigError`, only the CLI
prints and exits.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from pydantic import ConfigDict, Field, ValidationError, create_model, field_validator

from detector.detectors import DetectorsConfig, LearningHours, detector_fields
from detector.detectors._common import DEFAULT_LEARNING_HOURS
from detector.incidents.model import IncidentConfig
from graph.config import GraphConfig
from investigate.llm import LLMConfig
from logvigil.app.metrics import MetricsConfig
from logvigil.app.webconfig import WebConfig
from logvigil.core.configbase import Strict
from logvigil.core.yamlfile import (
    ConfigError,
    PathKey,
    Problem,
    YamlDoc,
    load_yaml,
    problems_from_validation,
)
from logvigil.ingest.noise import NoiseConfig
from logvigil.ingest.sources import SourceConfig, SourceSpec
from logvigil.search.embed import EmbeddingsConfig
from logvigil.store.config import DatabaseConfig
from notify.config import NotifyConfig

DEFAULT_CONFIG_NAME = "logvigil.yaml"

#: The detector runs at least once an hour (a tick evaluates the minutes since the last).
MAX_TICK_SECONDS = 3600

TickSeconds = Annotated[int, Field(gt=0, le=MAX_TICK_SECONDS)]

#: Environment variables that override a key of the file: name -> dotted path.
ENV_OVERRIDES: dict[str, PathKey] = {
    "LOGVIGIL_DATA_DIR": ("data_dir",),
    "LOGVIGIL_DATABASE_URL": ("database", "url"),
    "LOGVIGIL_INVENTORY": ("graph", "inventory"),
    "LOGVIGIL_GRAPH_URL": ("graph", "url"),
    "LOGVIGIL_LLM_PROVIDER": ("llm", "provider"),
    "LOGVIGIL_LLM_MODEL": ("llm", "model"),
    "LOGVIGIL_LLM_BASE_URL": ("llm", "base_url"),
    "LOGVIGIL_LLM_API_KEY": ("llm", "api_key"),
    "LOGVIGIL_EMBEDDINGS_API_KEY": ("embeddings", "api_key"),
    "LOGVIGIL_DISCORD_WEBHOOK_URL": ("notify", "discord", "webhook_url"),
    "LOGVIGIL_SMTP_PASSWORD": ("notify", "email", "password"),
    "LOGVIGIL_METRICS_PORT": ("metrics", "port"),
    "LOGVIGIL_WEB_TOKEN": ("web", "token"),
}


class _DetectorSectionBase(Strict):
    """What the `detector:` section offers besides its fields (built below)."""

    def detectors(self) -> DetectorsConfig:
        """The learning period and the detectors' sub-sections, for `build_detectors`."""
        return DetectorsConfig.model_validate(
            {name: getattr(self, name) for name in DetectorsConfig.model_fields}
        )


#: The `detector:` section: the tick, the noise rules, the learning period, one
#: sub-section per registered detector, and incidents. `learning_period_hours` is how
#: long a service is observed before its spikes and new templates count; a detector's
#: own `learning_period_hours` overrides it.
DetectorSection = create_model(  # type: ignore[call-overload]
    "DetectorSection",
    __base__=_DetectorSectionBase,
    __doc__="The tick, the noise rules, each detector, and incidents.",
    tick_seconds=(TickSeconds, 60),
    learning_period_hours=(LearningHours, DEFAULT_LEARNING_HOURS),
    noise=(NoiseConfig, Field(default_factory=NoiseConfig)),
    **detector_fields(),
    incidents=(IncidentConfig, Field(default_factory=IncidentConfig)),
)


def default_data_dir() -> Path:
    """`$STATE_DIRECTORY` (systemd), else `$XDG_DATA_HOME/logvigil`, else `~/.local/share/logvigil`.

    `$LOGVIGIL_DATA_DIR` overrides all of them (see `ENV_OVERRIDES`).
    """
    state = os.environ.get("STATE_DIRECTORY")
    if state:
        return Path(state.split(":")[0])
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "logvigil"


class Settings(Strict):
    """The whole configuration file."""

    # A validation error printed whole never shows a value (it may be a secret).
    model_config = ConfigDict(hide_input_in_errors=True)

    data_dir: Path = Field(default_factory=default_data_dir)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    sources: list[SourceSpec] = Field(default_factory=list)
    detector: DetectorSection = Field(default_factory=DetectorSection)
    graph: GraphConfig = Field(default_factory=GraphConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    embeddings: EmbeddingsConfig = Field(default_factory=EmbeddingsConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    web: WebConfig = Field(default_factory=WebConfig)

    @field_validator("sources")
    @classmethod
    def _unique_source_names(cls, sources: list[SourceConfig]) -> list[SourceConfig]:
        """Each source's cursor is stored under its name: two sources cannot share one."""
        seen: dict[str, int] = {}
        for i, spec in enumerate(sources):
            name = spec.source_name
            if name in seen:
                raise ValueError(
                    f"sources[{seen[name]}] and sources[{i}] are both named {name!r}: "
                    "give one of them a distinct `name`"
                )
            seen[name] = i
        return sources

    @property
    def database_url(self) -> str:
        """The configured URL, or the default SQLite file in the data directory."""
        if self.database.url:
            return self.database.url
        return f"sqlite:///{self.data_dir / 'logvigil.db'}"


def find_config(
    explicit: str | Path | None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The config file to read, or None to run on defaults.

    An explicit path (flag or `$LOGVIGIL_CONFIG`) must exist; the implicit
    `./logvigil.yaml` is used only when present.
    """
    if explicit:
        return Path(explicit)
    env = (os.environ if environ is None else environ).get("LOGVIGIL_CONFIG")
    if env:
        return Path(env)
    local = Path(DEFAULT_CONFIG_NAME)
    return local if local.is_file() else None


def _set_path(data: dict, path: PathKey, value: str) -> None:
    node = data
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[path[-1]] = value


def load_settings(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Load, override from the environment and validate the configuration.

    Raises ConfigError with every problem, each naming file, line and field
    (or the environment variable that supplied the bad value).
    """
    env = os.environ if environ is None else environ
    file = find_config(path, env)
    doc = load_yaml(file) if file is not None else YamlDoc(file="(defaults)", data={})
    if doc.data is None:
        doc.data = {}
    problems = list(doc.duplicates)
    if not isinstance(doc.data, dict):
        raise ConfigError(
            [Problem(doc.file, doc.line_of(()), "", "the top level must be a mapping of sections")]
        )
    from_env: dict[PathKey, str] = {}
    for var, key_path in ENV_OVERRIDES.items():
        value = env.get(var)
        if value:
            try:
                _set_path(doc.data, key_path, value)
            except TypeError:
                continue  # the file has a non-mapping there; validation reports it
            from_env[key_path] = var
    try:
        settings = Settings.model_validate(doc.data)
    except ValidationError as exc:
        for p in problems_from_validation(exc, doc, Settings):
            var = next((v for k, v in from_env.items() if p.path == ".".join(map(str, k))), None)
            if var is not None:
                p = Problem(f"environment variable {var}", None, p.path, p.message)
            problems.append(p)
    if problems:
        raise ConfigError(problems)
    return settings
