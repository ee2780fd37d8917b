"""The import-time levers of the fast loop, each checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _python(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip()


def test_umap_functions_get_numba_on_disk_cache_and_others_do_not() -> None:
    pytest.importorskip("umap")
    out = _python(
        "import litreview.topics, numba\n"
        "import umap.umap_ as u\n"
        "from numba.core.caching import NullCache\n"
        "@numba.njit\n"
        "def mine(x):\n"
        "    return x + 1\n"
        "print(type(u.smooth_knn_dist._cache) is not NullCache,"
        " type(mine._cache) is NullCache, mine(1))\n"
    )
    assert out == "True True 2"


def test_umap_imported_first_is_left_as_it_is() -> None:
    pytest.importorskip("umap")
    out = _python(
        "import umap, litreview.topics.layout as layout\n"
        "print(layout.cache_umap_compilation())\n"
    )
    assert out == "False"


def test_the_iri_checker_is_left_out_of_runs_and_topics_kernels() -> None:
    out = _python(
        "import sys\n"
        "from litreview import pipeline\n"
        "pipeline._skip_iri_checker()\n"
        "import nbformat, jsonschema\n"
        "print(sys.modules['rfc3987_syntax'] is None)\n"
    )
    assert out == "True"
    assert _python("import sys, litreview.topics; print(sys.modules.get('rfc3987_syntax', 1))"
                   ) == "None"
