"""The search query sets: operators' words against the demo's and the scenarios' stores.

`queries.yaml` (63 queries) was written by hand against the stores' template lists
before the ranker existed; its even-numbered half was then used to develop the
thesaurus and the daemon-name rule, its odd half kept to measure. `queries_fresh.yaml`
(59 queries) was written later, blind to both the ranker and the first set: it is the
honest measure of what the ranking does on words it was not developed with. Each query's expected
template must be in the top 3 (lexical only). The floors are the figures measured
when the sets were added, so a change that loses ground fails; the target of the
issue is 90%.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine

from logvigil.search.templates import Hit, search_templates

HERE = Path(__file__).parent
#: The floor of each set: the first set after its development (its held-out odd half alone
#: was 25 of 31 before and after), the fresh set as first measured, blind (40 of 59).
SETS = {"queries.yaml": 0.90, "queries_fresh.yaml": 0.67}


def load(name: str) -> list[dict[str, Any]]:
    return yaml.safe_load((HERE / name).read_text())["queries"]


def found(q: dict[str, Any], hits: list[Hit]) -> bool:
    wants = [w.lower() for w in q.get("expect_any") or [q["expect"]]]
    return any(
        any(w in h.template.lower() for w in wants)
        and (not q.get("service") or q["service"] in h.services)
        for h in hits
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SETS))
def test_the_expected_template_is_in_the_top_3(stores: dict[str, str], name: str) -> None:
    queries = load(name)
    if not queries:
        pytest.skip(f"{name} is not there")
    engines = {s: create_engine(url) for s, url in stores.items()}
    missed = []
    for q in queries:
        hits = search_templates(engines[q["store"]], q["query"], limit=3)
        if not found(q, hits):
            missed.append(f"{q['query']!r} ({q['store']}): {[h.template[:50] for h in hits]}")
    share = 1 - len(missed) / len(queries)
    print(f"{name}: {len(queries) - len(missed)}/{len(queries)} in the top 3 ({share:.1%})")
    print("\n".join(missed))
    assert share >= SETS[name], missed
