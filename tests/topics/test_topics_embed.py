import json
import warnings

import numpy as np
import pytest

from litreview import embed

pytestmark = pytest.mark.slow
TEXTS = ["Graph neural networks for molecules.", "A recipe for sourdough bread.",
         "Penalty kicks in league football.", "Graph neural networks for molecules."]


def _no_model(*_args, **_kwargs):
    raise AssertionError("the model was loaded although every text was cached")


def test_resolve_model_names_and_errors(tmp_path):
    packaged = embed.resolve_model("all-MiniLM-L6-v2")
    assert embed.resolve_model("sentence-transformers/all-MiniLM-L6-v2") == packaged
    assert embed.resolve_model(packaged) == packaged
    with pytest.raises(FileNotFoundError, match="never downloaded"):
        embed.resolve_model("no-such/model")
    with pytest.raises(FileNotFoundError):
        embed.resolve_model(tmp_path)


def test_paper_texts_joins_title_and_abstract():
    papers = [{"title": "A title", "abstract": "An  abstract."},
              {"title": "Why?", "abstract": "Because."},
              {"title": "Only a title", "abstract": None}]
    assert embed.paper_texts(papers) == ["A title. An abstract.", "Why? Because.", "Only a title"]


def test_embeddings_are_normalised_and_duplicates_identical(st_model):
    vectors = embed.embed_texts(TEXTS, show_progress=False)
    assert vectors.dtype == np.float32 and vectors.shape == (4, 384)
    assert np.linalg.norm(vectors, axis=1) == pytest.approx(np.ones(4), abs=1e-5)
    assert np.array_equal(vectors[0], vectors[3])
    assert float(vectors[0] @ vectors[1]) < 0.5


def test_cache_hit_and_extension_embed_only_new_texts(tmp_path, monkeypatch, st_model):
    first = embed.embed_texts(TEXTS, cache_dir=tmp_path, show_progress=False)
    monkeypatch.setattr(embed, "load_model", _no_model)
    again = embed.embed_texts(TEXTS[::-1], cache_dir=tmp_path, show_progress=False)
    assert np.array_equal(again, first[::-1])
    monkeypatch.undo()

    seen = []
    original = embed._encode

    def counting(model, batch, batch_size):
        seen.extend(batch)
        return original(model, batch, batch_size)

    monkeypatch.setattr(embed, "_encode", counting)
    extended = embed.embed_texts([*TEXTS, "Dark matter in galaxy clusters."], cache_dir=tmp_path,
                                 show_progress=False)
    assert seen == ["Dark matter in galaxy clusters."]
    assert np.array_equal(extended[:4], first)
    assert len(json.loads((tmp_path / "index.json").read_text())["shards"]) == 2


def test_interrupted_run_resumes_from_written_shards(tmp_path, monkeypatch, st_model):
    monkeypatch.setattr(embed, "SHARD_SIZE", 1)
    calls = []
    original = embed._encode

    def failing_second(model, batch, batch_size):
        calls.append(batch)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(model, batch, batch_size)

    monkeypatch.setattr(embed, "_encode", failing_second)
    with pytest.raises(KeyboardInterrupt):
        embed.embed_texts(TEXTS[:3], cache_dir=tmp_path, show_progress=False)
    index = json.loads((tmp_path / "index.json").read_text())
    assert len(index["shards"]) == 1
    calls.clear()
    monkeypatch.setattr(embed, "_encode", lambda m, b, s: (calls.append(b), original(m, b, s))[1])
    embed.embed_texts(TEXTS[:3], cache_dir=tmp_path, show_progress=False)
    assert len(calls) == 2  # the first shard's text was not embedded again


def test_corrupt_shard_is_reported_and_rebuilt(tmp_path, st_model):
    first = embed.embed_texts(TEXTS, cache_dir=tmp_path, show_progress=False)
    shard = next(tmp_path.glob("shard-*.npz"))
    data = bytearray(shard.read_bytes())
    data[-20] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.warns(embed.EmbeddingCacheWarning, match="checksum"):
        again = embed.embed_texts(TEXTS, cache_dir=tmp_path, show_progress=False)
    assert np.array_equal(again, first)
    with warnings.catch_warnings():
        warnings.simplefilter("error", embed.EmbeddingCacheWarning)
        embed.embed_texts(TEXTS, cache_dir=tmp_path, show_progress=False)  # repaired


def test_wrong_dimension_shard_is_rejected(tmp_path, st_model):
    embed.embed_texts(TEXTS[:2], cache_dir=tmp_path, show_progress=False)
    cache = embed._EmbeddingCache(tmp_path, "x")
    cache.index = json.loads((tmp_path / "index.json").read_text())
    cache.add_shard([embed.text_key("Extra text.")], np.ones((1, 7), dtype=np.float32))
    with pytest.warns(embed.EmbeddingCacheWarning, match="dimension"):
        vectors = embed.embed_texts([*TEXTS[:2], "Extra text."], cache_dir=tmp_path,
                                    show_progress=False)
    assert vectors.shape == (3, 384)


def test_other_model_cache_is_reported_and_rebuilt(tmp_path, monkeypatch, st_model):
    embed.embed_texts(TEXTS, cache_dir=tmp_path, show_progress=False)
    index_path = tmp_path / "index.json"
    index = json.loads(index_path.read_text())
    index["model_identity"] = "another-model:truncate"
    index_path.write_text(json.dumps(index))
    with pytest.warns(embed.EmbeddingCacheWarning, match="different embedding model"):
        embed.embed_texts(TEXTS, cache_dir=tmp_path, show_progress=False)
    assert json.loads(index_path.read_text())["model_identity"].startswith(
        embed.model_identity())


def test_chunk_mean_differs_only_for_long_texts(st_model):
    long_text = "Graph neural networks for molecules. " * 80
    short = embed.embed_texts([TEXTS[1], long_text], show_progress=False)
    chunked = embed.embed_texts([TEXTS[1], long_text], show_progress=False, long_text="chunk_mean")
    assert np.allclose(short[0], chunked[0], atol=1e-6)
    assert np.linalg.norm(chunked[1]) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError):
        embed.embed_texts(TEXTS, long_text="average")


# --------------------------------------------------------------------------- onnx-int8 backend

ONNX_TEXTS = [
    "Graph neural networks predict molecular properties.",
    "A recipe for sourdough bread with a long fermentation.",
    "Penalty kicks decide many league football matches.",
    "Dark matter shapes the growth of galaxy clusters.",
    "CRISPR editing of plant genomes improves yield.",
    "Transformers for machine translation of low-resource languages.",
    "Olive oil and roasted vegetables in Mediterranean cooking.",
    "The goalkeeper saved a penalty in the world cup final.",
    "Exoplanet atmospheres observed with a space telescope.",
    "Gene expression changes after DNA damage in yeast.",
    "Reinforcement learning agents play Atari games.",
    "Pastry dough needs cold butter and a light hand.",
    "Transfer market prices for strikers keep rising.",
    "Supernova remnants enrich the interstellar medium.",
    "Protein folding predicted from amino-acid sequences.",
    "Contrastive learning of sentence embeddings.",
    "Tomato sauce simmered slowly with garlic and basil.",
    "Midfielder tactics in a pressing football team.",
    "Redshift surveys map the large-scale structure of the universe.",
    "Mutation rates across the human genome.",
]


@pytest.fixture(scope="module")
def onnx_run(tmp_path_factory, st_model):
    """Embed ONNX_TEXTS once with torch and once with onnx-int8 into one output folder."""
    models = tmp_path_factory.mktemp("onnx_run") / "models"
    torch_vectors = embed.embed_texts(ONNX_TEXTS, cache_dir=models / "embeddings",
                                      show_progress=False)
    onnx_vectors = embed.embed_texts(ONNX_TEXTS, cache_dir=models / "embeddings",
                                     show_progress=False, embedding_backend="onnx-int8")
    return models, torch_vectors, onnx_vectors


def test_onnx_int8_is_close_to_torch_and_deterministic(onnx_run, monkeypatch):
    models, torch_vectors, onnx_vectors = onnx_run
    assert onnx_vectors.dtype == np.float32 and onnx_vectors.shape == torch_vectors.shape
    assert np.linalg.norm(onnx_vectors, axis=1) == pytest.approx(np.ones(20), abs=1e-5)
    assert np.sum(onnx_vectors * torch_vectors, axis=1).min() >= 0.98
    # A second, uncached run in another cache folder gives the same bytes.
    onnx_file = next((models / "onnx").glob("*/model-int8.onnx"))
    stamp = onnx_file.stat().st_mtime_ns

    def no_export(*_args, **_kwargs):
        raise AssertionError("the model was exported again")

    monkeypatch.setattr(embed, "_export_fp32", no_export)
    again = embed.embed_texts(ONNX_TEXTS, cache_dir=models / "embeddings-again",
                              show_progress=False, embedding_backend="onnx-int8")
    assert np.array_equal(again, onnx_vectors)
    assert onnx_file.stat().st_mtime_ns == stamp
    assert [p.name for p in onnx_file.parent.iterdir() if p.suffix == ".onnx"] == [
        "model-int8.onnx"]  # no fp32 intermediate or half-written file left


def test_onnx_int8_and_torch_caches_never_mix(onnx_run, monkeypatch):
    models, torch_vectors, onnx_vectors = onnx_run
    cache = models / "embeddings"
    assert not np.array_equal(onnx_vectors, torch_vectors)
    torch_identity = json.loads((cache / "index.json").read_text())["model_identity"]
    onnx_identity = json.loads((cache / "onnx-int8" / "index.json").read_text())["model_identity"]
    assert torch_identity != onnx_identity and "onnx-int8" in onnx_identity
    # Both caches stay warm: each backend is served its own vectors without encoding.
    monkeypatch.setattr(embed, "load_model", _no_model)
    monkeypatch.setattr(embed, "onnx_batch_encoder", _no_model)
    with warnings.catch_warnings():
        warnings.simplefilter("error", embed.EmbeddingCacheWarning)
        assert np.array_equal(embed.embed_texts(ONNX_TEXTS, cache_dir=cache, show_progress=False),
                              torch_vectors)
        assert np.array_equal(embed.embed_texts(ONNX_TEXTS, cache_dir=cache, show_progress=False,
                                                embedding_backend="onnx-int8"), onnx_vectors)


def test_missing_onnxruntime_is_explained(monkeypatch):
    import builtins

    monkeypatch.setenv("LITREVIEW_NO_BF16", "1")  # a CPU without bf16 instructions
    assert embed.resolve_backend("auto", 10) == "torch"
    assert embed.resolve_backend("auto", embed.AUTO_ONNX_MIN_TEXTS) == "onnx-int8"
    assert embed.resolve_backend("torch", 10**6) == "torch"
    with pytest.raises(ValueError, match="embedding_backend"):
        embed.resolve_backend("model2vec", 10)
    real_import = builtins.__import__

    def fail_onnx(name, *args, **kwargs):
        if name.split(".")[0] in ("onnxruntime", "onnx"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fail_onnx)
    with pytest.raises(ImportError, match="pip install onnxruntime onnx"):
        embed.embed_texts(["A text."], embedding_backend="onnx-int8", show_progress=False)
    assert embed.resolve_backend("auto", embed.AUTO_ONNX_MIN_TEXTS) == "torch"


def test_run_records_the_backend_used(synthetic_run):
    out_dir, _papers, result = synthetic_run
    auto = embed.full_model_backend(100)  # "auto" on 100 papers: torch, or bf16 if the CPU has it
    assert auto in ("torch", "torch-bf16")
    assert result.metrics["embedding_backend"] == auto
    parameters = json.loads((out_dir / "manifest.json").read_text())["stages"]["topics"][
        "parameters"]
    assert parameters["embedding_backend"] == auto
    assert parameters["requested_embedding_backend"] == "auto"


def test_auto_takes_bf16_only_on_a_cpu_with_bf16_instructions(monkeypatch):
    monkeypatch.delenv("LITREVIEW_NO_BF16", raising=False)
    monkeypatch.setattr(embed, "_cpu_flags_include", lambda wanted: True)
    assert embed.full_model_backend(10) == embed.full_model_backend(5000) == "torch-bf16"
    assert embed.word_backend() == "torch-bf16"
    assert embed.resolve_backend("auto", embed.AUTO_TWO_STAGE_MIN_TEXTS) == "two-stage"
    monkeypatch.setenv("LITREVIEW_NO_BF16", "1")  # the researcher's way back to fp32
    assert embed.full_model_backend(10) == embed.word_backend() == "torch"
    monkeypatch.delenv("LITREVIEW_NO_BF16")
    monkeypatch.setattr(embed, "_cpu_flags_include", lambda wanted: False)
    assert embed.full_model_backend(10) == "torch"


def test_bf16_vectors_are_the_fp32_ones_to_four_decimals_and_cached_apart(tmp_path):
    """bf16 runs the same network (emulated, slower, on a CPU without bf16 instructions):
    unit rows within cosine 0.999 of fp32, in a cache of their own."""
    cache = tmp_path / "embeddings"
    fp32 = embed.embed_texts(ONNX_TEXTS, cache_dir=cache, show_progress=False)
    bf16 = embed.embed_texts(ONNX_TEXTS, cache_dir=cache, show_progress=False,
                             embedding_backend="torch-bf16")
    assert bf16.dtype == np.float32 and np.allclose(np.linalg.norm(bf16, axis=1), 1, atol=1e-5)
    assert (fp32 * bf16).sum(axis=1).min() > 0.999
    identity = json.loads((cache / "torch-bf16" / "index.json").read_text())["model_identity"]
    assert "torch-bf16" in identity and embed.BF16_RECIPE in identity
    again = embed.embed_texts(ONNX_TEXTS, cache_dir=tmp_path / "other", show_progress=False,
                              embedding_backend="torch-bf16")
    assert np.array_equal(again, bf16), "the same texts give the same bytes"


def test_word_embedder_runs_torch_on_one_thread(tmp_path, monkeypatch):
    """KeyBERT's and MMR's candidate words are embedded on ``WORD_THREADS`` torch threads
    (one): batches of a few word pieces gain nothing from a second thread."""
    from litreview.topics import describe

    calls = []

    def fake(texts, **kwargs):
        calls.append(kwargs)
        return np.ones((len(texts), 3), dtype=np.float32)

    monkeypatch.setattr(embed, "embed_texts", fake)
    embedder = describe.cached_embedder("all-MiniLM-L6-v2", tmp_path,
                                        known={"a known paper": np.zeros(3, dtype=np.float32)})
    vectors = embedder.embed(["graph", "a known paper", "neural network"])
    assert vectors.shape == (3, 3) and not vectors[1].any()
    assert [c["num_threads"] for c in calls] == [describe.WORD_THREADS] == [1]
    assert calls[0]["embedding_backend"] == embed.word_backend() in ("torch", "torch-bf16")
