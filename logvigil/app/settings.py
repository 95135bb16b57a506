"""LogVigil's configuration: one YAML file, validated, with safe defaults.

The file is found from `--config`, else `$LOGVIGIL_CONFIG`, else
`./logvigil.yaml` when it exists; with none of them every default applies, so
no file is needed to start. A few common keys can be overridden from the
environment (see `ENV_OVERRIDES`). Every error names the file, the line and
the dotted path of the field; library code raises `ConfigError`, only the CLI
prints and exits.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)

from detector.detectors.error_spike import ErrorSpikeConfig
from detector.detectors.new_template import NewTemplateConfig
from detector.detectors.primitive import PrimitiveConfig
from detector.detectors.silence import SilenceConfig
from detector.incidents.model import IncidentConfig
from logvigil.app.metrics import MetricsConfig
from logvigil.core.redact import display_url
from logvigil.core.yamlfile import (
    ConfigError,
    PathKey,
    Problem,
    YamlDoc,
    load_yaml,
    problems_from_validation,
)
from logvigil.ingest.sources.journald import JournaldConfig
from logvigil.ingest.sources.loki import LokiSourceConfig
from logvigil.ingest.sources.ssh_journald import SshJournaldConfig
from logvigil.ingest.sources.syslog_receiver import SyslogReceiverConfig
from notify.config import (
    ChannelName,
    DigestConfig,
    EmailConfig,
    QuietHoursConfig,
    RateLimitConfig,
    RouteConfig,
)

DEFAULT_CONFIG_NAME = "logvigil.yaml"

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
    "LOGVIGIL_DISCORD_WEBHOOK_URL": ("notify", "discord", "webhook_url"),
    "LOGVIGIL_SMTP_PASSWORD": ("notify", "email", "password"),
    "LOGVIGIL_METRICS_PORT": ("metrics", "port"),
}


class Strict(BaseModel):
    """Base of every config model: unknown keys are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


PositiveInt = Annotated[int, Field(gt=0)]


class DatabaseConfig(Strict):
    """Where templates, counts and events are stored."""

    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: a SQLite file `logvigil.db` in the data directory",
    )
    event_retention_days: PositiveInt = 7
    count_retention_days: PositiveInt = 90

    @field_validator("url")
    @classmethod
    def _known_backend(cls, v: str | None) -> str | None:
        if v is None:
            return v
        scheme = v.split(":", 1)[0].split("+", 1)[0]
        if scheme not in ("sqlite", "postgresql", "postgres", "mysql", "mariadb"):
            raise ValueError(
                f"unsupported database {scheme!r}: use sqlite:///PATH, "
                "postgresql+psycopg://... or mysql+pymysql://..."
            )
        return v


class FileSource(Strict):
    type: Literal["file"]
    path: Path
    format: Literal["auto", "jsonl", "journal", "syslog", "raw"] = "auto"
    name: str | None = None


class StdinSource(Strict):
    type: Literal["stdin"]
    format: Literal["auto", "jsonl", "journal", "syslog", "raw"] = "jsonl"
    name: str | None = None


Source = Annotated[
    FileSource
    | StdinSource
    | JournaldConfig
    | SshJournaldConfig
    | SyslogReceiverConfig
    | LokiSourceConfig,
    Field(discriminator="type"),
]


class NoiseRuleConfig(Strict):
    """Drop or downgrade matching events before they are mined.

    Every given condition must hold: `service` and `host` are exact names or
    shell-style globs, `match` a regular expression searched in the message.
    """

    name: Annotated[str, Field(min_length=1, max_length=64)]
    action: Literal["drop", "downgrade"] = "drop"
    service: str | None = None
    host: str | None = None
    match: str | None = None
    severity: Literal["debug", "info", "notice", "warning"] = Field(
        default="debug", description="the severity a downgraded event gets"
    )

    @field_validator("match")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return v


class NoiseConfig(Strict):
    defaults: bool = Field(
        default=True,
        description="apply the built-in rules (sshd auth failures, web scanners) after `rules`",
    )
    rules: list[NoiseRuleConfig] = Field(default_factory=list)


class DetectorConfig(Strict):
    """The `detector:` section: the tick, noise rules, each detector, and incidents.

    `learning_period_hours` is how long a service is observed before its spikes
    and new templates count; a detector's own `learning_period_hours` overrides it.
    """

    tick_seconds: PositiveInt = 60
    learning_period_hours: Annotated[float, Field(ge=0, le=24 * 365)] = 24.0
    noise: NoiseConfig = Field(default_factory=NoiseConfig)
    error_spike: ErrorSpikeConfig = Field(default_factory=ErrorSpikeConfig)
    new_template: NewTemplateConfig = Field(default_factory=NewTemplateConfig)
    silence: SilenceConfig = Field(default_factory=SilenceConfig)
    primitive: PrimitiveConfig = Field(default_factory=PrimitiveConfig)
    incidents: IncidentConfig = Field(default_factory=IncidentConfig)


class GraphConfig(Strict):
    inventory: Path = Path("inventory.yaml")
    url: str | None = Field(
        default=None,
        description="falkordb://host:port of a FalkorDB server; default: embedded FalkorDB",
    )


class LLMConfig(Strict):
    provider: Literal["none", "ollama", "openai"] = "none"
    model: str | None = None
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout_seconds: Annotated[float, Field(gt=0)] = 120.0
    max_calls: PositiveInt = 12
    #: Tokens one model answer may take: a report is a few hundred; a small model that
    #: rambles is cut here rather than running to the end of its context.
    max_answer_tokens: Annotated[int, Field(ge=64, le=32768)] = 800


class DiscordConfig(Strict):
    webhook_url: SecretStr


class NotifyConfig(Strict):
    """Channels (console, Discord, email) and the delivery policy (see docs/notifications.md)."""

    console: bool = True
    console_file: Path | None = None
    discord: DiscordConfig | None = None
    email: EmailConfig | None = None
    routes: list[RouteConfig] = Field(default_factory=list)
    quiet_hours: dict[ChannelName, QuietHoursConfig] = Field(default_factory=dict)
    rate_limit: dict[ChannelName, RateLimitConfig] = Field(default_factory=dict)
    digest: DigestConfig = Field(default_factory=DigestConfig)


def source_name(spec: Any) -> str:
    """The name a source's cursor is stored under: its `name`, else one from its target."""
    if getattr(spec, "name", None):
        return spec.name
    kind = spec.type
    if kind == "file":
        return f"file:{spec.path}"
    if kind == "ssh_journald":
        return f"ssh_journald:{spec.host}"
    if kind == "loki":
        return f"loki:{display_url(spec.url)}"
    return kind


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

    data_dir: Path = Field(default_factory=default_data_dir)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    sources: list[Source] = Field(default_factory=list)
    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    graph: GraphConfig = Field(default_factory=GraphConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)

    @field_validator("sources")
    @classmethod
    def _unique_source_names(cls, sources: list[Any]) -> list[Any]:
        """Each source's cursor is stored under its name: two sources cannot share one."""
        seen: dict[str, int] = {}
        for i, spec in enumerate(sources):
            name = source_name(spec)
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
