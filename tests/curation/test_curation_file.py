"""The curation file loader: entries with their lines, strict and lenient reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from litreview import curation
from litreview.curation import CurationError, load_curation

GOOD = """\
version: 1
themes:
  t-social-norms:
    name: Social norms and culture
  t-value-alignment:
    merge_into: t-social-norms
strands:
  s-social-norms-2:
    name: Cultural benchmarks
papers:
  "2401.01234":
    theme: t-social-norms
  "10.1145/3544548.3581318":
    representative: true
exclude:
  - paper: "2402.00001"
    reason: off-topic (cosmology)
include_only:
  - "2401.01234"
  - "10.1145/3544548.3581318"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "review.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_every_section_with_lines(tmp_path):
    cur = load_curation(write(tmp_path, GOOD))
    assert [(t.theme_id, t.name, t.merge_into, t.line) for t in cur.themes] == [
        ("t-social-norms", "Social norms and culture", None, 3),
        ("t-value-alignment", None, "t-social-norms", 5),
    ]
    assert [(s.strand_id, s.name) for s in cur.strands] == [("s-social-norms-2",
                                                              "Cultural benchmarks")]
    assert [(p.ref, p.theme, p.representative, p.line) for p in cur.papers] == [
        ("2401.01234", "t-social-norms", False, 11),
        ("10.1145/3544548.3581318", None, True, 13),
    ]
    assert [(e.ref, e.reason, e.line) for e in cur.exclude] == [
        ("2402.00001", "off-topic (cosmology)", 16)]
    assert [i.ref for i in cur.include_only] == ["2401.01234", "10.1145/3544548.3581318"]
    assert not cur.is_empty and not cur.problems


def test_missing_file_and_empty_file_are_no_curation(tmp_path):
    assert load_curation(tmp_path / "absent.yaml").is_empty
    assert load_curation(None).is_empty
    assert load_curation(write(tmp_path, "# only comments\n")).is_empty
    assert load_curation(write(tmp_path, curation.template([("t-a", "A")]))).is_empty


def test_bad_yaml_names_file_and_line(tmp_path):
    path = write(tmp_path, "themes:\n  t-a:\n    name: [unclosed\n")
    with pytest.raises(CurationError) as err:
        load_curation(path, strict=False)  # no valid entries to keep: always an error
    assert f"{path}:" in str(err.value) and "not valid YAML" in str(err.value)
    assert err.value.problems[0].line >= 3


def test_schema_problems_are_all_listed_with_lines(tmp_path):
    text = ("themes:\n"
            "  Social norms:\n"           # 2: not an id
            "    name: x\n"
            "  t-a:\n"
            "    nmae: typo\n"            # 5: unknown key
            "papers:\n"
            "  \"has space\":\n"          # 7: not a paper id
            "    theme: t-a\n"
            "exclude:\n"
            "  - paper: \"2402.00001\"\n"  # 10: no reason
            "colour: blue\n")             # 11: unknown section
    path = write(tmp_path, text)
    with pytest.raises(CurationError) as err:
        load_curation(path)
    lines = sorted(p.line for p in err.value.problems)
    assert lines == [2, 5, 7, 10, 11]
    assert all(str(p).startswith(f"{path}:{p.line}: ") for p in err.value.problems)


def test_lenient_read_keeps_valid_entries(tmp_path):
    text = "themes:\n  t-a:\n    name: Kept\n  t-b:\n    merge_into: NOT AN ID\n"
    cur = load_curation(write(tmp_path, text), strict=False)
    assert [t.theme_id for t in cur.themes] == ["t-a"]
    assert [p.line for p in cur.problems] == [5]


def test_merge_cycle_and_contradiction_are_refused(tmp_path):
    text = ("themes:\n  t-a:\n    merge_into: t-b\n  t-b:\n    merge_into: t-a\n"
            "exclude:\n  - {paper: '2401.00001', reason: r}\ninclude_only: ['2401.00001']\n")
    with pytest.raises(CurationError) as err:
        load_curation(write(tmp_path, text))
    messages = " ".join(p.message for p in err.value.problems)
    assert "circle" in messages and "both excluded and in include_only" in messages


@pytest.mark.parametrize(("ref", "key"), [
    ("10.1145/ABC.1", "doi:10.1145/abc.1"),
    ("https://doi.org/10.1145/abc.1", "doi:10.1145/abc.1"),
    ("2401.01234v3", "arxiv:2401.01234"),
    ("arXiv:2401.01234", "arxiv:2401.01234"),
    ("12345678", "pmid:12345678"),
    ("p-3f2a", "id:p-3f2a"),
    ("two words", None),
    ("", None),
])
def test_normalize_ref(ref, key):
    assert curation.normalize_ref(ref) == key


def test_resolve_papers_matches_each_identifier_and_reports_the_rest():
    papers = [
        {"paper_id": "p1", "doi": "10.1234/X", "arxiv_id": None, "pmid": None},
        {"paper_id": "p2", "doi": None, "arxiv_id": "2401.01234v2", "pmid": "999"},
    ]
    found, problems = curation.resolve_papers(
        [("10.1234/x", 3), ("2401.01234", 4), ("999", 5), ("p1", 6), ("2501.00001", 7)],
        papers, "review.yaml")
    assert found == {"10.1234/x": "p1", "2401.01234": "p2", "999": "p2", "p1": "p1"}
    assert [(p.line, "matches no paper" in p.message) for p in problems] == [(7, True)]


def test_check_theme_ids_and_settle(tmp_path):
    cur = load_curation(write(tmp_path, GOOD))
    problems = curation.check_theme_ids(cur, ["t-social-norms"])
    assert [p.line for p in problems] == [5]  # t-value-alignment is not a theme
    assert curation.check_strand_ids(cur, ["s-social-norms-2"]) == []
    assert curation.settle(problems, strict=False) == problems
    with pytest.raises(CurationError):
        curation.settle(problems, strict=True)


def test_fingerprints_separate_screening_from_map_edits(tmp_path):
    base = load_curation(write(tmp_path, GOOD))
    renamed = load_curation(write(tmp_path, GOOD.replace("Cultural benchmarks", "Other")))
    assert base.screening_fingerprint() == renamed.screening_fingerprint()
    assert base.map_fingerprint() != renamed.map_fingerprint()


def test_default_path_is_next_to_the_corpus(tmp_path):
    corpus = tmp_path / "data" / "corpus"
    corpus.mkdir(parents=True)
    assert curation.default_path([corpus]) == tmp_path / "data" / "review.yaml"
    one = corpus / "a.bib"
    one.write_text("")
    assert curation.default_path([one]) == corpus / "review.yaml"
