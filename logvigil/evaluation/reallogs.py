"""`logvigil eval --real DIR`: backtest every labelled real log of a folder and score it.

For each `<log>.labels.yaml` of the folder the log beside it is replayed through
exactly the daemon's code (`run_backtest`), in the zone and year its labels give
(what an operator states with `--timezone` and `--year`), and the incidents it
opened are scored against the labels (`realscore.score_file`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from graph.inventory import Inventory
from logvigil.app.backtest import run_backtest
from logvigil.app.runtime import empty_inventory
from logvigil.app.settings import Settings
from logvigil.core.yamlfile import ConfigError
from logvigil.evaluation.labels import FORMATS, LabelFile, label_files, load_labels
from logvigil.evaluation.realscore import FileScore, RealSummary, score_file
from logvigil.ingest.formats import input_options
from logvigil.ingest.inputs import FUTURE_SLACK, InputError, open_input


@dataclass(frozen=True)
class RealResult:
    """One labelled file: its score, or why it could not be scored."""

    labels: Path
    score: FileScore | None
    error: str | None = None


@dataclass(frozen=True)
class RealReport:
    results: tuple[RealResult, ...]

    @property
    def summary(self) -> RealSummary:
        return RealSummary(tuple(r.score for r in self.results if r.score is not None))

    @property
    def passed(self) -> bool:
        return all(r.error is None for r in self.results) and self.summary.passed


def evaluate_file(labels_path: Path, settings: Settings, inventory: Inventory) -> RealResult:
    """Backtest and score the log of one label file; never raises for a bad file."""
    try:
        labels = load_labels(labels_path)
        log = labels_path.parent / labels.file
        return RealResult(labels_path, score(labels, log, settings, inventory))
    except (ConfigError, InputError) as exc:
        return RealResult(labels_path, None, str(exc))


def score(labels: LabelFile, log: Path, settings: Settings, inventory: Inventory) -> FileScore:
    """The score of `log` against `labels`. Raises InputError when the log cannot be read."""
    inp = open_input(log)
    try:
        options = input_options(
            str(log),
            naive_tz=labels.zone,
            # The year of a line without one: the 12 months ending a month after this.
            default_time=labels.last + timedelta(days=1),
            not_after=labels.last + timedelta(days=1) + FUTURE_SLACK,
        )
        result = run_backtest(
            inp.lines(),  # a corrupt compressed log ends in an InputError
            fmt=FORMATS[labels.format],
            settings=settings,
            inventory=inventory,
            read_options=options,
        )
    finally:
        inp.close()
    return score_file(labels, result.incidents, hosts=len(result.hosts), lines=result.summary.lines)


def evaluate_real(
    directory: Path | str, settings: Settings, inventory: Inventory | None = None
) -> RealReport:
    """Score every labelled log of `directory`, with `inventory` (None: none, as a new
    user starts). Raises ConfigError when the folder holds no label file."""
    inv = inventory if inventory is not None else empty_inventory()
    return RealReport(tuple(evaluate_file(p, settings, inv) for p in label_files(directory)))
