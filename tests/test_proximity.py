"""The proximity signal: of two articles with the same words, the one that has the query's words in one
sentence ranks first, on every embedded engine, and --explain shows the bonus."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from indexer import build_index
from indexer.config import Config
from indexer.generations import IndexStore
from query import Searcher, proximity

# The same words in both (so the same BM25F score): "far" has the query's words in two paragraphs,
# "near" in one sentence. "far" comes first by id when scores tie.
FAR = ("Market day", "Police set up checkpoints on the road north. Traffic was slow all day.",
       "Farmers near Jalalabad sold melons at the market. Prices rose.")
NEAR = ("Market day", "Police set up checkpoints near Jalalabad on the road. Traffic was slow all day.",
        "Farmers north sold melons at the market. Prices rose.")
OTHERS = [("Rain in Kabul", "Rain fell on Kabul for a third day.", "Schools closed early."),
          ("Wheat harvest", "The wheat harvest was the best in years.", "Farmers sold grain in Herat."),
          ("Road works", "The road to Herat was repaired.", "Police said traffic would improve.")]


@pytest.fixture(scope="module", params=["whoosh", "tantivy"])
def index_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if request.param != "whoosh":
        pytest.importorskip(request.param)
    corpus = tmp_path_factory.mktemp("proximity-corpus")
    for name, (headline, *paragraphs) in [("a-far", FAR), ("b-near", NEAR),
                                           *((f"other-{n}", text) for n, text in enumerate(OTHERS))]:
        (corpus / f"{name}.txt").write_text("\n\n".join([headline, *paragraphs]) + "\n", encoding="utf-8")
    index_dir = tmp_path_factory.mktemp(f"proximity-index-{request.param}")
    build_index([corpus], index_dir, Config(index_dir=index_dir, engine=request.param))
    return index_dir


@pytest.fixture(scope="module")
def searcher(index_dir: Path) -> Searcher:
    with Searcher(index_dir) as handle:
        yield handle


def test_same_words_in_one_sentence_rank_first(searcher: Searcher) -> None:
    found = searcher.search("Jalalabad checkpoints").hits
    assert [hit.id for hit in found] == ["b-near.txt", "a-far.txt"]
    assert found[0].score > found[1].score


def test_without_the_signal_the_two_articles_tie(searcher: Searcher, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proximity, "SENTENCE_WEIGHT", 0.0)
    found = searcher.search("Jalalabad checkpoints").hits
    assert [hit.id for hit in found] == ["a-far.txt", "b-near.txt"]
    assert found[0].score == pytest.approx(found[1].score)


def test_explain_shows_the_bonus_in_the_section_of_the_sentence(searcher: Searcher) -> None:
    found = searcher.search("Jalalabad checkpoints", explain=True).hits
    bonus = [part for part in found[0].explanation if part.term == proximity.EXPLAINED]
    assert [part.field for part in bonus] == ["body"]
    assert sum(part.score for part in found[0].explanation) == pytest.approx(found[0].score)


def test_a_tantivy_search_rescoring_its_hits_needs_no_numpy(index_dir: Path) -> None:
    """numpy takes ~60 ms to import: a tantivy search, exact BM25F included, must not pay it at start."""
    if IndexStore(index_dir).current().engine != "tantivy":
        pytest.skip("the whoosh engine scores with numpy")
    script = ("import sys; from query import Searcher; hits = Searcher(sys.argv[1]).search('Jalalabad checkpoints').hits; "
              "print(hits[0].id, 'numpy' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", script, str(index_dir)], capture_output=True, text=True, check=True).stdout.split()
    assert shown == ["b-near.txt", "False"]
