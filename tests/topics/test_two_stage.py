import json

import numpy as np
import pandas as pd
import pytest

from litreview import embed, two_stage

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(make_papers):
    """100 synthetic abstracts (4 themes) plus two repeated texts, and their theme labels."""
    papers = make_papers(per_theme=25)
    texts = embed.paper_texts(papers)
    themes = papers["theme"].tolist()
    return [*texts, texts[0], texts[5]], [*themes, themes[0], themes[5]]


def _no_model(*_args, **_kwargs):
    raise AssertionError("the model was used although the two-stage result was cached")


def _run(texts, cache_dir, **kwargs):
    kwargs = {"seed": 0, "sample_size": 40, "sample_backend": "torch", "show_progress": False,
              **kwargs}
    return two_stage.embed_two_stage(texts, model=embed.DEFAULT_MODEL, cache_dir=cache_dir,
                                     **kwargs)


def test_sample_keeps_model_vectors_and_the_rest_lands_near_its_theme(corpus, tmp_path, st_model):
    texts, themes = corpus
    vectors, report = _run(texts, tmp_path)
    assert vectors.shape == (102, 384) and vectors.dtype == np.float32
    assert report.n_texts == 100 and report.n_sampled == 40 and report.sample_backend == "torch"
    assert np.linalg.norm(vectors, axis=1) == pytest.approx(np.ones(102), abs=1e-5)
    assert np.array_equal(vectors[100], vectors[0]) and np.array_equal(vectors[101], vectors[5])

    sampled = two_stage.sample_indices(100, 40, 0)
    exact = embed.embed_texts([texts[i] for i in sampled], cache_dir=tmp_path, show_progress=False)
    assert np.array_equal(vectors[sampled], exact)

    mapped = np.setdiff1d(np.arange(100), sampled)
    truth = embed.embed_texts([texts[i] for i in mapped], show_progress=False)
    cosine = np.sum(vectors[mapped] * truth, axis=1)
    assert cosine.mean() > 0.8
    assert report.held_out_cosine is not None and report.held_out_cosine > 0.7
    # Every mapped paper is nearest to the centroid of its own theme's sampled papers.
    labels = np.asarray(themes[:100])
    names = sorted(set(labels))
    centroids = np.stack([vectors[sampled][labels[sampled] == name].mean(axis=0) for name in names])
    predicted = np.asarray(names)[(vectors[mapped] @ centroids.T).argmax(axis=1)]
    assert (predicted == labels[mapped]).mean() >= 0.95


def test_same_inputs_same_bytes_and_a_warm_run_reads_the_cache(corpus, tmp_path, monkeypatch,
                                                                st_model):
    texts, _ = corpus
    first, report = _run(texts, tmp_path)
    uncached, _ = _run(texts, None)
    assert first.tobytes() == uncached.tobytes()
    other_seed, _ = _run(texts, None, seed=1)
    assert not np.array_equal(first, other_seed)

    monkeypatch.setattr(embed, "load_model", _no_model)
    monkeypatch.setattr(two_stage, "text_features", _no_model)
    again, cached_report = _run(texts, tmp_path)
    assert again.tobytes() == first.tobytes() and cached_report == report


def test_unreadable_cache_is_rebuilt(corpus, tmp_path, st_model):
    texts, _ = corpus
    first, _ = _run(texts, tmp_path)
    (matrix,) = (tmp_path / "two-stage").glob("*.npy")
    matrix.write_bytes(b"not an array")
    again, _ = _run(texts, tmp_path)
    assert again.tobytes() == first.tobytes()


def test_corpus_no_larger_than_the_sample_is_embedded_whole(corpus, tmp_path, st_model):
    texts, _ = corpus
    vectors, report = _run(texts[:30], tmp_path)
    assert report.n_sampled == 30 and report.held_out_cosine is None
    assert np.array_equal(vectors, embed.embed_texts(texts[:30], show_progress=False))


def test_bad_settings_are_refused(corpus):
    texts, _ = corpus
    with pytest.raises(ValueError, match="sample_size"):
        _run(texts, None, sample_size=0)
    with pytest.raises(ValueError, match="sample_backend"):
        _run(texts, None, sample_backend="model2vec")


def test_run_topics_refuses_a_sample_of_nothing(tmp_path, make_papers, put_papers):
    from litreview.topics import run_topics

    put_papers(tmp_path, make_papers(per_theme=5))
    with pytest.raises(ValueError, match="two_stage_sample_size"):
        run_topics(tmp_path, two_stage_sample_size=0, show_progress=False)


def test_auto_switches_to_two_stage_for_large_corpora():
    assert embed.resolve_backend("auto", embed.AUTO_TWO_STAGE_MIN_TEXTS) == "two-stage"
    assert embed.resolve_backend("auto", embed.AUTO_TWO_STAGE_MIN_TEXTS - 1) in (
        "onnx-int8", "torch", "torch-bf16")
    assert embed.resolve_backend("two-stage", 10) == "two-stage"
    # embed_texts embeds every text with the model: "auto" never maps, "two-stage" is refused.
    assert embed.full_model_backend(embed.AUTO_TWO_STAGE_MIN_TEXTS) in (
        "onnx-int8", "torch", "torch-bf16")
    with pytest.raises(ValueError, match="embed_two_stage"):
        embed.embed_texts(["A text."], embedding_backend="two-stage", show_progress=False)


def test_run_topics_records_the_two_stage_fit(tmp_path, make_papers, put_papers, st_model):
    from litreview.topics import run_topics

    papers = make_papers(per_theme=25)
    put_papers(tmp_path, papers)
    result = run_topics(tmp_path, embedding_backend="two-stage", two_stage_sample_size=40,
                        stability_seeds=0, show_progress=False)
    fit = result.metrics["two_stage"]
    assert result.metrics["embedding_backend"] == "two-stage"
    assert fit["n_sampled"] == 40 and fit["n_texts"] == 100 and fit["held_out_cosine"] > 0.7
    notes = result.metrics["notes"]
    assert any(n.startswith("two-stage embedding: 40 of 100 papers") for n in notes)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    parameters = manifest["stages"]["topics"]["parameters"]
    assert parameters["embedding_backend"] == "two-stage"
    assert parameters["two_stage_sample_size"] == 40
    # Themes may split finer than on full model vectors, but each stays one synthetic theme.
    truth = papers.set_index("paper_id").loc[result.doc_topics["paper_id"], "theme"].to_numpy()
    purity = pd.crosstab(result.doc_topics["topic"].to_numpy(), truth).pipe(
        lambda t: t.max(axis=1) / t.sum(axis=1))
    assert 4 <= result.metrics["n_themes"] <= 10 and (purity >= 0.9).all()
