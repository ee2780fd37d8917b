"""Theme numbers agree with BERTopic's renumbering, ties included."""

from __future__ import annotations

import collections

import numpy as np
import pandas as pd

from litreview.topics.place import size_order


def _bertopic_order(topics: np.ndarray) -> dict[int, int]:
    # BERTopic._sort_mappings_by_frequency, verbatim in substance
    sizes = collections.Counter(topics.tolist())
    df = pd.DataFrame(sizes.items(), columns=["Old_Topic", "Size"]).sort_values(
        "Size", ascending=False)
    df = df[df.Old_Topic != -1]
    return dict(zip(df.Old_Topic, range(len(df)), strict=True))


def test_size_order_matches_bertopic_on_ties() -> None:
    # three themes of 41 and two of 24, as in a seed update that BERTopic renumbered
    sizes = {0: 46, 4: 38, 8: 11, 7: 22, 1: 41, 5: 24, 6: 24, 2: 41, 3: 41, -1: 8}
    topics = np.concatenate([np.full(n, t) for t, n in sizes.items()])
    assert size_order(topics) == _bertopic_order(topics)
    ranks = size_order(topics)
    assert [t for t, _ in sorted(ranks.items(), key=lambda kv: kv[1])][:1] == [0]


def test_size_order_is_by_size() -> None:
    topics = np.array([2, 2, 2, 0, 1, 1, -1])
    assert size_order(topics) == {2: 0, 1: 1, 0: 2}
