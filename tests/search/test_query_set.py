"""The search query sets: operators' words against the demo's and the scenarios' stores.

`queries.yaml` (63 queries) was written by hand against the stores' template lists
before the ranker existed; its even-numbered half was then used to develop the
thesaurus and the daemon-name rule, its odd half kept to measure. `queries_fresh.yaml`
(59 queries) was written later, blind to both the ranker and the first set (40 of 59
when first measured). Each query's expected template must be in the top 3 (lexical
only). The floors are the figures last measured, so a change that loses ground fails;
the target of the issue is 90%.

Issue 16's second round (identifiers cut into words, phrases said and written scored
whole, typed ideas counted once with a coordination factor, status codes and errno
names, and many more senses) was developed on the misses of both sets, the fresh set
being spent by then: 57 -> 63 of 63 and 40 -> 58 of 59. Neither set measures that
round honestly any more: only a set written blind to it does.

`queries_blind.yaml` (66 queries) is that set: written by someone who read only the
stores' template lists (neither the ranker, nor its tests, nor the other sets), before
the second round, which was developed without ever reading it. Measured once before
the second round (51 of 66) and once after (60 of 66, 90.9%), nothing tuned between.

`queries_blind2.yaml` (59 queries) was written on 2026-12-01 the same way (a helper that
read only the template lists, not the other sets), after every change to the lexical
ranker, to measure the fused ranking's choice (docs/search.md) on queries no one had
ranked: lexical 54 of 59 (91.5%) when first measured, nothing tuned on it since.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine

from logvigil.search.templates import Hit, search_templates

HERE = Path(__file__).parent
#: The floor of each set, as last measured: 63 of 63 and 58 of 59 (both developed on);
#: the blind sets 60 of 66 and 54 of 59.
SETS = {
    "queries.yaml": 1.00,
    "queries_fresh.yaml": 0.98,
    "queries_blind.yaml": 0.90,
    "queries_blind2.yaml": 0.91,
}


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
