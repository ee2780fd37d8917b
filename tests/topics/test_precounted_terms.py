"""Large corpora: BERTopic's class counts are the sums of the papers' own counts."""

from __future__ import annotations

import numpy as np

from litreview.topics import describe
from litreview.topics.corpus import vectorize_papers
from litreview.topics.fit import TopicParams


def _corpus(make_papers):
    papers = make_papers(per_theme=14)
    names = sorted(set(papers["theme"]))  # BERTopic wants themes numbered by size
    rank = papers.groupby("theme").cumcount()
    papers = papers[rank < 14 - 3 * papers["theme"].map(names.index)].reset_index(drop=True)
    docs = (papers["title"] + ". " + papers["abstract"]).tolist()
    theme_no = {t: i for i, t in enumerate(sorted(set(papers["theme"])))}
    topics = np.asarray([theme_no[t] for t in papers["theme"]], dtype=np.int64)
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(len(docs), 8)).astype(np.float32) + topics[:, None]
    return docs, topics, emb


def test_first_fit_transform_gives_the_summed_counts_then_tokenises(make_papers):
    docs, topics, _ = _corpus(make_papers)
    topics = topics.copy()
    topics[:3] = -1
    vectorizer, doc_term = vectorize_papers(docs)
    pre = describe.precounted_vectorizer(vectorizer, doc_term, topics)
    joined = [" ".join(d for d, t in zip(docs, topics, strict=True) if t == k)
              for k in sorted(set(topics.tolist()))]
    counts = pre.fit_transform(joined).toarray()
    for row, k in enumerate(sorted(set(topics.tolist()))):
        np.testing.assert_array_equal(counts[row], doc_term[topics == k].sum(axis=0).A1)
    assert pre.get_feature_names_out().tolist() == vectorizer.get_feature_names_out().tolist()
    again = pre.fit_transform(joined[:2]).toarray()  # any later call tokenises
    np.testing.assert_array_equal(again, vectorizer.fit_transform(joined[:2]).toarray())


def test_find_terms_above_the_threshold_names_the_same_themes(make_papers):
    docs, topics, emb = _corpus(make_papers)
    params = TopicParams(seed=1, min_topic_size=3, nr_topics=0, min_strand_size=3,
                         outlier_threshold=0.0, top_n_terms=5, umap_n_neighbors=5)
    strands = topics * 2 + (np.arange(len(topics)) % 2)
    kw = dict(embedding_model=None, with_keybert=False)
    plain = describe.find_terms(docs, docs, emb, topics, strands, params, **kw)
    summed = describe.find_terms(docs, docs, emb, topics, strands, params,
                                 precount_min_papers=0, **kw)
    assert not hasattr(plain.model.vectorizer_model, "precounted_")
    assert summed.model.vectorizer_model.precounted_ is None  # used once, then let go
    for a, b in zip(plain.themes["ctfidf_terms"], summed.themes["ctfidf_terms"], strict=True):
        assert len(set(a[:5]) & set(b[:5])) >= 4
