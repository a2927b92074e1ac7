"""Article authors: read from every format as its source writes them, one name form, bounded.

Samples are shaped like the real thing: the web samples of tests/data/web (a Daily Mail page, BBC and
Slashdot RSS, a Guardian Atom feed, an AP NITF story, a NewsML-G2 message), the real Reuters-21578
collection and the 18F blog posts from ../shared/corpora, and small files written here for each way a
source lists authors.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from conftest import CORPORA

sys.path.insert(0, str(Path(__file__).resolve().parent / "opensearch"))
from opensearch_fixtures import cluster  # noqa: E402,F401 (session fixture: skips without a distribution)

from indexer.bylines import MAX_AUTHOR_CHARS, MAX_AUTHORS, author_names, story_byline
from indexer.models import Article, Notice, Skipped
from indexer.readers import CorpusFile, find_files, read_file

WEB = Path(__file__).parent / "data" / "web"
REUTERS = CORPORA / "reuters21578"
POSTS_18F = CORPORA / "markdown_18f"
CAP = 10 * 1024 * 1024


def read(path: Path) -> list[Article | Skipped | Notice]:
    stat = path.stat()
    return list(read_file(CorpusFile(path, path.parent, stat.st_size, stat.st_mtime_ns), CAP))


def articles(path: Path) -> list[Article]:
    found = read(path)
    assert not [i for i in found if isinstance(i, Skipped)], found
    return [i for i in found if isinstance(i, Article)]


def by_id(path: Path) -> dict[str, Article]:
    return {a.id: a for a in articles(path)}


# --- one name form ------------------------------------------------------------------------------

@pytest.mark.parametrize("value, names", [
    ("Jane Smith", ("Jane Smith",)),
    ("  By   Jane\tSmith ", ("Jane Smith",)),
    ("BY: JANE SMITH", ("JANE SMITH",)),
    ("Jane Smith and Bob Jones", ("Jane Smith", "Bob Jones")),
    ("Jane Smith, Bob Jones and Ann Lee", ("Jane Smith", "Bob Jones", "Ann Lee")),
    ("Jane Smith; Bob Jones", ("Jane Smith", "Bob Jones")),
    ("Jane Smith and jane smith", ("Jane Smith",)),  # once, case aside, the first spelling kept
    ("Ren&eacute;e Anderson", ("Renée Anderson",)),  # "and" inside a word is no separator
    (["Smith, Jane", "Bob Jones"], ("Smith, Jane", "Bob Jones")),  # a list's items are names as given
    ([{"@type": "Person", "name": "Jane Smith"}, {"name": "By Bob Jones"}], ("Jane Smith", "Bob Jones")),
    ({"name": "Jane Smith"}, ("Jane Smith",)),
    (["melody", "laura-gerhardt", "18F"], ("melody", "laura-gerhardt", "18F")),
    (["", "—", "2019", None, True, {"email": "x@example.org"}], ()),  # no letters, no name
    (None, ()),
])
def test_names_are_normalised(value: object, names: tuple[str, ...]) -> None:
    assert author_names(value) == names


def test_hostile_sizes_are_bounded() -> None:
    started = time.monotonic()
    many = author_names([f"Writer {i}" for i in range(1_000_000)])
    listed = author_names(" and ".join(f"Writer {i}" for i in range(200_000)))
    huge = author_names("Jane " * 2_000_000)
    assert time.monotonic() - started < 2
    assert many == listed == tuple(f"Writer {i}" for i in range(MAX_AUTHORS))
    assert len(huge) == 1 and len(huge[0]) <= MAX_AUTHOR_CHARS and huge[0].startswith("Jane Jane")


# --- every reader -------------------------------------------------------------------------------

def test_markdown_front_matter(tmp_path: Path) -> None:
    (tmp_path / "2019-02-14-one.md").write_text("---\ntitle: One\nauthors:\n  - melody\n  - laura-gerhardt\n---\n\nText.\n")
    (tmp_path / "two.md").write_text("---\ntitle: Two\nauthor: By Jane Smith and Bob Jones\n---\n\nText.\n")
    (tmp_path / "three.md").write_text('+++\ntitle = "Three"\nauthor = "Ann Lee"\n+++\n\nText.\n')
    (tmp_path / "four.md").write_text("---\ntitle: Four\n---\n\nNo author here.\n")
    found = {a.headline: a.authors for p in sorted(tmp_path.iterdir()) for a in articles(p)}
    assert found == {"One": ("melody", "laura-gerhardt"), "Two": ("Jane Smith", "Bob Jones"), "Three": ("Ann Lee",),
                     "Four": ()}


def test_jsonl_and_json_feeds(tmp_path: Path) -> None:
    records = [
        {"id": "a", "title": "A", "body": "Text.", "author": "Jane Smith and Bob Jones"},
        {"id": "b", "title": "B", "body": "Text.", "authors": ["Smith, Jane", "Ann Lee"]},
        {"id": "c", "title": "C", "body": "Text.", "byline": "By ANN LEE"},
        {"id": "d", "title": "D", "body": "Text.", "author": [{"@type": "Person", "name": "Jane Smith"}]},
        {"id": "e", "title": "E", "body": "Text.", "author": 42.5},  # no name, and no reason to skip the record
        {"id": "f", "title": "F", "body": "Text."},
    ]
    (tmp_path / "feed.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (tmp_path / "feed.json").write_text(json.dumps({"articles": records}))
    expected = {"a": ("Jane Smith", "Bob Jones"), "b": ("Smith, Jane", "Ann Lee"), "c": ("ANN LEE",),
                "d": ("Jane Smith",), "e": (), "f": ()}
    for name in ("feed.jsonl", "feed.json"):
        found = {a.id: a.authors for a in articles(tmp_path / name)}
        assert found == expected, name
    notices = [str(i) for i in read(tmp_path / "feed.jsonl") if isinstance(i, Notice)]
    assert not any("author" in n or "byline" in n for n in notices)  # used, not reported as unused


def test_saved_web_page() -> None:
    (page,) = articles(WEB / "founding-article.html")  # <meta name="author" content="Tim Stickings For Mailonline">
    assert page.authors == ("Tim Stickings",)


def test_web_page_with_several_authors(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text('<html><head><title>Floods close roads</title><meta name="author" content="Jane Smith and Bob Jones">'
                    "</head><body><article><h1>Floods close roads</h1>"
                    + "".join(f"<p>Paragraph {i} of the report about the floods that closed the roads.</p>" for i in range(6))
                    + "</article></body></html>")
    (article,) = articles(page)
    assert article.authors == ("Jane Smith", "Bob Jones")


def test_rss_and_atom_items() -> None:
    bbc = articles(WEB / "bbc-world.rss")
    assert [a.authors for a in bbc] == [("BBC News",), (), ()]  # dc:creator on the first item only
    (slashdot, *_) = articles(WEB / "slashdot.rdf.xml")
    assert slashdot.authors == ("msmash",)
    guardian = articles(WEB / "guardian-world.atom")
    assert guardian[0].authors == ("Akhtar Mohammad Makoii",) and guardian[1].authors == ()


def test_feed_authors_as_feeds_write_them(tmp_path: Path) -> None:
    (tmp_path / "feed.rss").write_text("""<?xml version="1.0"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Wire</title>
<item><guid>1</guid><title>One</title><author>jane@example.com (Jane Smith)</author></item>
<item><guid>2</guid><title>Two</title><dc:creator>Jane Smith and Bob Jones</dc:creator></item>
<item><guid>3</guid><title>Three</title><dc:creator>Ann Lee</dc:creator><dc:creator>Bo Chan</dc:creator></item>
<item><guid>4</guid><title>Four</title><author>desk@example.com</author></item>
</channel></rss>""")
    (tmp_path / "feed.atom").write_text("""<feed xmlns="http://www.w3.org/2005/Atom"><title>Blog</title>
<author><name>Feed Writer</name></author>
<entry><id>x</id><title>X</title><author><name>Ann Lee</name></author><author><name>Bo Chan</name></author></entry>
<entry><id>y</id><title>Y</title></entry></feed>""")
    assert {i: a.authors for i, a in by_id(tmp_path / "feed.rss").items()} == {
        "1": ("Jane Smith",), "2": ("Jane Smith", "Bob Jones"), "3": ("Ann Lee", "Bo Chan"), "4": ()}
    assert {i: a.authors for i, a in by_id(tmp_path / "feed.atom").items()} == {
        "x": ("Ann Lee", "Bo Chan"), "y": ("Feed Writer",)}  # an entry without an author has the feed's


def test_nitf_byline() -> None:
    (story,) = articles(WEB / "ap-wire.nitf.xml")  # <byline>By RAHIM FAIEZ <byttl>Associated Press</byttl></byline>
    assert story.authors == ("RAHIM FAIEZ",)


def test_nitf_byline_with_people(tmp_path: Path) -> None:
    (tmp_path / "story.xml").write_text("""<?xml version="1.0"?><nitf><head><title>Rates</title></head>
<body><body.head><hedline><hl1>Rates held</hl1></hedline>
<byline>By <person>Jane Smith</person> and <person>Bob Jones</person>, <byttl>Staff Writers</byttl></byline>
</body.head><body.content><p>The bank held rates.</p></body.content></body></nitf>""")
    (story,) = articles(tmp_path / "story.xml")
    assert story.authors == ("Jane Smith", "Bob Jones")


def test_newsml_creator() -> None:
    first, second = [i for i in read(WEB / "wire-message.newsml.xml") if isinstance(i, Article)]  # and a picture
    assert first.authors == ("Priya Raman",) and second.authors == ()


def test_reuters_author_lines() -> None:
    documents = [a for a in articles(REUTERS / "reut2-000.sgm")]
    with_authors = {a.id.split("#")[1]: a.authors for a in documents if a.authors}
    assert with_authors["4"] == ("Janie Gabbett",)  # "    by Janie Gabbett, Reuters": the agency is the source
    assert all("reuter" not in name.lower() for names in with_authors.values() for name in names)
    assert sum(1 for a in documents if "By " in " ".join(a.body)[:40]) == 0  # the byline is not body text


def test_reuters_author_lines_listing_several(tmp_path: Path) -> None:
    (tmp_path / "wire.sgm").write_text("""<REUTERS NEWID="1"><DATE>26-FEB-1987 15:01:01.79</DATE><TEXT>&#2;
<TITLE>EC TALKS</TITLE>
<AUTHOR>    By STEPHEN JUKES AND PHILIP SHEHADI, REUTERS</AUTHOR>
<DATELINE>    BRUSSELS, Feb 26 - </DATELINE><BODY>Ministers met.
 Reuter
&#3;</BODY></TEXT></REUTERS>
<REUTERS NEWID="2"><TEXT TYPE="BRIEF">&#2;
<TITLE>BRIEF ITEM</TITLE>
<AUTHOR>    By Norma Cohen and Geert Linnebank, Reuter</AUTHOR>
Shares rose.
&#3;</TEXT></REUTERS>""")
    found = {a.id: a for a in articles(tmp_path / "wire.sgm")}
    assert found["wire.sgm#1"].authors == ("STEPHEN JUKES", "PHILIP SHEHADI")
    assert found["wire.sgm#2"].authors == ("Norma Cohen", "Geert Linnebank")
    assert found["wire.sgm#2"].body == ("Shares rose.",)  # a brief's text without its byline


def test_reuters_collection_counts() -> None:
    files, _ = find_files([REUTERS])
    documents = [i for f in files for i in read(f.path) if isinstance(i, Article)]
    raw = sum(path.read_bytes().count(b"<AUTHOR>") for path in REUTERS.glob("*.sgm"))
    assert raw == 875 and sum(1 for a in documents if a.authors) == raw


@pytest.mark.parametrize("head, authors, first", [
    ("By\n\nDaily Mail Reporter\n\nPUBLISHED:\n\n14:11 EST, 25 October 2013\n\nA council approved a cycle lane.",
     ("Daily Mail Reporter",), "PUBLISHED:"),
    ("By\n\nJane Smith\n\nand\n\nBob Jones\n\nPUBLISHED:\n\n12:00 EST, 1 May 2013\n\nText.",
     ("Jane Smith", "Bob Jones"), "PUBLISHED:"),
    ("By . Jane Smith . PUBLISHED: . 14:11 EST, 25 October 2013 . A council approved a cycle lane .",
     ("Jane Smith",), "PUBLISHED: . 14:11 EST, 25 October 2013 . A council approved a cycle lane ."),
    ("By Moni Basu, CNN\n\n(CNN) -- A council approved a cycle lane.", ("Moni Basu",), "(CNN) -- A council approved a cycle lane."),
    ("By the time police arrived, the crowd had gone.\n\nMore text.", (), "By the time police arrived, the crowd had gone."),
    ("(CNN) -- A council approved a cycle lane.", (), "(CNN) -- A council approved a cycle lane."),
])
def test_story_bylines(tmp_path: Path, head: str, authors: tuple[str, ...], first: str) -> None:
    (tmp_path / "a.story").write_text(head + "\n\n@highlight\n\nCycle lane approved\n")
    (story,) = articles(tmp_path / "a.story")
    assert story.authors == authors
    assert story.body[0] == first and story.headline == "Cycle lane approved"


def test_story_byline_alone() -> None:
    assert story_byline([]) == ((), [])
    assert story_byline(["By", "Jane Smith"]) == ((), ["By", "Jane Smith"])  # no header end: not a byline


def test_every_18f_post_shows_the_authors_its_front_matter_names() -> None:
    """All 509 posts list `authors` (site slugs such as "melody" or "laura-gerhardt"): each is read,
    in order, as the front matter names it."""
    import yaml

    files, _ = find_files([POSTS_18F])
    posts = [(f.path, article) for f in files for article in articles(f.path)]
    named = 0
    for path, article in posts:
        front = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1].replace("\t", "  "))
        listed = [str(name) for name in front.get("authors") or []]
        named += bool(listed)
        assert list(article.authors) == list(dict.fromkeys(listed)), path.name
    assert len(posts) == 509 and named == 509


# --- stored, shown, searched and filtered -------------------------------------------------------

ENGINES = ("whoosh", "tantivy")
AUTHOR = "melody"  # the 18F author of most posts


def front_matter_authors() -> dict[str, list[str]]:
    """Each 18F post's id (its file name) and the authors its front matter lists, read here with PyYAML."""
    import yaml

    return {path.name: [str(a) for a in yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1].replace("\t", "  "))
                        .get("authors") or []] for path in sorted((POSTS_18F / "posts").glob("*.md"))}


@pytest.fixture(scope="module")
def indexes_18f(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from indexer import build_index
    from indexer.config import Config

    pytest.importorskip("tantivy")
    found = {}
    for engine in ENGINES:
        index = tmp_path_factory.mktemp(f"authors-18f-{engine}")
        build_index([POSTS_18F], index, Config(index_dir=index, engine=engine))
        found[engine] = index
    return found


def ids(results: object) -> set[str]:
    return {hit.id.rsplit("/", 1)[-1] for hit in results.hits}  # type: ignore[attr-defined]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_filter_by_a_real_author_finds_exactly_her_posts(indexes_18f: dict[str, Path], engine: str) -> None:
    from query.searcher import Searcher

    hers = {name for name, authors in front_matter_authors().items() if AUTHOR in authors}
    assert len(hers) == 47
    with Searcher(indexes_18f[engine]) as searcher:
        named = searcher.search(AUTHOR, limit=1000, snippets=0)  # her name: her posts, and posts that mention her
        assert hers < ids(named)
        assert ids(searcher.search(AUTHOR, limit=1000, snippets=0, author="MELODY ")) == hers
        broad = "data OR design OR team"
        assert ids(searcher.search(broad, limit=1000, snippets=0, author=AUTHOR)) == ids(
            searcher.search(broad, limit=1000, snippets=0)) & hers
        assert searcher.search(broad, limit=1, author="mel").total == 0  # a whole name, not a part of one
        counted = searcher.search(broad, limit=1, facets=["author"]).facets
        assert counted is not None and counted["author"][AUTHOR] == len(ids(searcher.search(broad, limit=1000, author=AUTHOR)))
        hit = searcher.search(AUTHOR, limit=1, author=AUTHOR).hits[0]
        stored = searcher.article(hit.id)
        assert stored is not None and AUTHOR in stored.authors and hit.authors == stored.authors


@pytest.mark.parametrize("engine", ENGINES)
def test_an_author_name_is_searchable_in_a_low_weight_field(indexes_18f: dict[str, Path], engine: str) -> None:
    """Typing a columnist's name finds all her posts: the names are words of the "authors" field, weighted
    0.5 (as captions), so that her posts are found without outranking posts about her."""
    from query.searcher import Searcher

    hers = {name for name, authors in front_matter_authors().items() if "laura-gerhardt" in authors}
    with Searcher(indexes_18f[engine]) as searcher:
        assert hers <= ids(searcher.search("Laura Gerhardt", limit=1000, snippets=0)) and len(hers) == 13
        assert ids(searcher.search("authors:gerhardt", limit=1000, snippets=0)) == hers
        assert ids(searcher.search("author:gerhardt", limit=1000, snippets=0)) == hers  # as people write it
        explained = searcher.search("authors:gerhardt", limit=1, explain=True).hits[0].explanation
        assert {c.field for c in explained} == {"authors"}


def test_the_cli_filters_and_shows_authors(indexes_18f: dict[str, Path]) -> None:
    from click.testing import CliRunner

    from query.cli import main

    index = str(indexes_18f["whoosh"])
    shown = CliRunner().invoke(main, ["--index", index, "--author", "Melody", "-n", "50", "--color", "never", "design"])
    assert shown.exit_code == 0, shown.output
    details = [line for line in shown.output.splitlines() if line.startswith("   ") and " · " in line and ".md" in line]
    bylines = [line.split(" · ")[2] for line in details]  # id · date · authors · file
    assert details and all(line.split(" · ")[1].startswith("20") for line in details)
    assert all(byline.startswith("by ") and (AUTHOR in byline or byline.endswith(" more")) for byline in bylines)
    answer = json.loads(CliRunner().invoke(main, ["--index", index, "--json", "--author", AUTHOR, "design"]).output)
    assert answer["hits"] and all(AUTHOR in hit["authors"] for hit in answer["hits"])
    wrong = CliRunner().invoke(main, ["--index", index, "--author", "nobody-at-all", "design"])
    assert wrong.exit_code == 1 and "no article matches the filters" in wrong.output


def test_the_web_api_and_page_filter_and_show_authors(indexes_18f: dict[str, Path]) -> None:
    from starlette.testclient import TestClient

    from query.searcher import Searcher
    from query.web import create_app

    with Searcher(indexes_18f["whoosh"]) as searcher:
        client = TestClient(create_app(searcher), raise_server_exceptions=False)
        answer = client.get("/api/search", params={"q": "design", "author": AUTHOR, "limit": "100"}).json()
        assert answer["total"] == searcher.search("design", limit=1, author=AUTHOR).total > 0
        assert all(AUTHOR in hit["authors"] for hit in answer["hits"])
        article = client.get(f"/api/articles/{answer['hits'][0]['id']}").json()
        assert AUTHOR in article["authors"]
        page = client.get("/", params={"q": "design", "author": AUTHOR}).text
        assert f"by {AUTHOR}" in page and f"author {AUTHOR}" in page  # each hit's byline, the filter in force
        assert "<h2>Author</h2>" in client.get("/", params={"q": "design"}).text  # the facet


# --- an index built before authors were stored --------------------------------------------------

def build_without_authors(config: object, corpus: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """An index as versions before authors built it: no authors field, no author keywords (and for
    tantivy and OpenSearch no authors weight folded in)."""
    from indexer import build_index
    from indexer.engines import bm25f

    engine = config.engine  # type: ignore[attr-defined]
    without = {f: t for f, t in bm25f.folded_weights(config.weights).items() if f != "authors"}  # type: ignore[attr-defined]

    if engine == "whoosh":
        from indexer.engines import whoosh as module

        full = module.schema

        def schema() -> object:
            older = full()
            older.remove("authors")
            older.remove("author")
            return older

        monkeypatch.setattr(module, "schema", schema)
    elif engine == "opensearch":
        from indexer.engines import opensearch as module  # type: ignore[no-redef]

        full_mapping = module.mapping

        def mapping(shards: int, folded: object = None) -> dict:
            older = full_mapping(shards, without)
            for properties in (older["mappings"]["properties"], older["mappings"]["properties"][module.VOCABULARY]["properties"]):
                properties.pop("authors", None)
                properties.pop("author", None)
            return older

        monkeypatch.setattr(module, "mapping", mapping)
    else:
        tantivy = pytest.importorskip("tantivy")
        from indexer.engines import tantivy as module  # type: ignore[no-redef]

        def schema() -> object:
            builder = tantivy.SchemaBuilder()
            for name in ("headline", "bullets", "body", "captions"):
                builder.add_text_field(name, tokenizer_name="whitespace", index_option="position")
            builder.add_text_field(bm25f.SECTIONS, tokenizer_name="whitespace", index_option="freq")
            for name in ("id", "path", "source", "categories"):
                builder.add_text_field(name, tokenizer_name="raw", index_option="basic", fast=name in ("source", "categories"))
            builder.add_integer_field("date", indexed=True, fast=True)
            builder.add_bytes_field("article", stored=True)
            return builder.build()

        monkeypatch.setattr(module, "schema", schema)
        monkeypatch.setattr(module, "folded_weights", lambda weights: without)
    build_index(corpus, config=config)  # type: ignore[arg-type]
    monkeypatch.undo()


@pytest.mark.parametrize("engine", (*ENGINES, "opensearch"))
def test_an_index_built_before_authors_still_searches_and_says_why_it_cannot_filter(
        engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    import shutil
    from dataclasses import replace

    from indexer import build_index, update_index
    from indexer.config import Config
    from indexer.errors import QueryError
    from query.searcher import Searcher

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("guardian-world.atom", "wire-message.newsml.xml", "ap-wire.nitf.xml"):
        shutil.copy(WEB / name, corpus / name)
    index = tmp_path / "index"
    config = Config(index_dir=index, engine=engine)
    if engine == "opensearch":
        pytest.importorskip("opensearchpy")
        config = replace(config, opensearch_url=request.getfixturevalue("cluster").url, opensearch_alias="authors-before")
    build_without_authors(config, [corpus], monkeypatch)
    with Searcher(index) as searcher:
        for query in ("kabul", "barrier OR kabul", "makoii", "authors:makoii", "authors:mak*", "kabu*", "kabol~",
                      '"thames barrier"'):
            searcher.search(query, facets=["author", "category"])  # no crash
        found = searcher.search("kabul airport", facets=["author"])
        assert found.hits and found.hits[0].authors == () and found.facets == {"author": {}}
        assert searcher.search("authors:makoii").total == 0
        assert searcher.article(found.hits[0].id).authors == ()  # type: ignore[union-attr]
        with pytest.raises(QueryError, match="built before authors were stored.*rebuild it with: search-index rebuild"):
            searcher.search("kabul", author="Akhtar Mohammad Makoii")
    shutil.copy(WEB / "bbc-world.rss", corpus / "bbc-world.rss")  # an update keeps the older layout
    report = update_index([corpus], config=config)
    assert report.added == 3
    with Searcher(index) as searcher:
        assert searcher.search("afghan army").hits[0].authors == ()
    build_index([corpus], config=config)  # a rebuild stores them
    with Searcher(index) as searcher:
        assert searcher.search("kabul", author="akhtar mohammad makoii").hits[0].authors == ("Akhtar Mohammad Makoii",)
