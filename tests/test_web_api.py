"""The JSON API and the server-rendered page of `search-index serve`, through Starlette's test client,
on a real index of four folders (the bundled corpus, BBC tech, a Daily Mail part, hostile records).

Expected answers come from elsewhere: the `search --json` command, the Searcher, the corpus files,
brute-force counts over every hit."""
from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest
from conftest import DAILYMAIL, FOUNDING_ID
from starlette.testclient import TestClient
from web_support import HOSTILE, HOSTILE_ID, HOSTILE_TEXT_ID, brute_force_facets, command, small_index

from indexer.generations import IndexStore
from query.searcher import Searcher
from query.web import create_app

TOKEN = "correct-horse-battery-staple-42"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_index(tmp_path_factory)


@pytest.fixture(scope="module")
def searcher(index: Path) -> Iterator[Searcher]:
    with Searcher(index) as shared:
        yield shared


@pytest.fixture(scope="module")
def client(searcher: Searcher) -> TestClient:
    return TestClient(create_app(searcher), raise_server_exceptions=False)


def search_json(index: Path, *arguments: str) -> dict:
    done = subprocess.run([command("search"), "--json", "--index", str(index), *arguments], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


# -- the JSON API -----------------------------------------------------------------------------------

@pytest.mark.parametrize("arguments", [
    {"q": "Jalalabad checkpoints"},
    {"q": "coronavirus lockdown", "limit": "5", "context": "0"},
    {"q": "mobile phone", "sort": "date", "field": "body"},
    {"q": "coronavirus", "since": "2020-09-30", "until": "2020-10", "category": "news"},
    {"q": "coronavirsu vaccine"},  # corrected: did you mean
    {"q": "coronavirsu vaccine", "exact": "1"},
])
def test_search_answers_what_search_json_prints(client: TestClient, index: Path, arguments: dict[str, str]) -> None:
    answer = client.get("/api/search", params=arguments)
    assert answer.status_code == 200
    got = answer.json()
    assert got.pop("offset") == 0
    options = [f"--{name}" if value == "1" and name == "exact" else f"--{name}={value}"
               for name, value in arguments.items() if name != "q"]
    assert got == search_json(index, *options, "--", arguments["q"])
    assert got["hits"], "each of these queries finds articles"


def test_corrected_query_says_so(client: TestClient) -> None:
    got = client.get("/api/search", params={"q": "coronavirsu vaccine"}).json()
    assert got["suggestion"]["corrections"] == [{"typed": "coronavirsu", "searched": "coronavirus", "also_typed": False}]


def test_pages_continue_one_ranking(client: TestClient, searcher: Searcher) -> None:
    whole = [hit.id for hit in searcher.search("coronavirus", limit=30).hits]
    pages = [client.get("/api/search", params={"q": "coronavirus", "limit": 10, "offset": offset}).json()
             for offset in (0, 10, 20)]
    assert [hit["id"] for page in pages for hit in page["hits"]] == whole
    assert [hit["rank"] for hit in pages[2]["hits"]] == list(range(21, 31))
    assert [page["offset"] for page in pages] == [0, 10, 20]
    assert {page["total"] for page in pages} == {searcher.search("coronavirus").total}
    beyond = client.get("/api/search", params={"q": "coronavirus", "offset": 5000}).json()
    assert beyond["hits"] == [] and beyond["total"] == pages[0]["total"]


@pytest.mark.parametrize("query, filters", [("coronavirus", {}), ("said", {}), ("ferry", {"category": "news"}),
                                            ("police", {"since": "2020-10-01"})])
def test_facets_count_every_matching_article(client: TestClient, searcher: Searcher, query: str,
                                             filters: dict[str, str]) -> None:
    got = client.get("/api/search", params={"q": query, "facets": "all", "limit": 1, **filters}).json()
    expected = brute_force_facets(searcher, query, **filters)
    for name in ("category", "year", "source"):
        counts = {item["value"]: item["count"] for item in got["facets"][name]}
        assert counts == dict(expected[name].most_common(20)) or (
            len(counts) == 20 and all(expected[name][value] == count for value, count in counts.items()))
        assert [item["count"] for item in got["facets"][name]] == sorted(counts.values(), reverse=True)
    assert got["facets"]["category"], "the Daily Mail part has categories"


def test_facets_only_when_asked_and_checked(client: TestClient) -> None:
    assert "facets" not in client.get("/api/search", params={"q": "coronavirus"}).json()
    got = client.get("/api/search", params={"q": "coronavirus", "facets": "year"}).json()
    assert list(got["facets"]) == ["year"]
    assert got["facets"]["year"] == [{"value": "2020", "count": got["total"]}]  # part 7 is all 2020, BBC undated... and matches it


def test_cli_prints_the_same_facets(client: TestClient, index: Path) -> None:
    api = client.get("/api/search", params={"q": "coronavirus", "facets": "category,year"}).json()["facets"]
    assert search_json(index, "--facets", "category,year", "coronavirus")["facets"] == api
    text = subprocess.run([command("search"), "--index", str(index), "--facets", "category", "--color", "never",
                           "coronavirus"], capture_output=True, text=True, timeout=120).stdout
    first = api["category"][0]
    assert f"category: {first['value']} {first['count']:,} · " in text.splitlines()[1]


def test_article_is_the_whole_stored_record(client: TestClient) -> None:
    record = json.loads((DAILYMAIL / "part-007.jsonl").read_text(encoding="utf-8").splitlines()[10])
    got = client.get(f"/api/articles/{record['id']}")
    assert got.status_code == 200
    article = got.json()
    assert article["id"] == record["id"] and article["headline"] == record["headline"].strip()
    assert article["date"].startswith(record["date"][:10]) and article["categories"] == record["categories"]
    assert " ".join(article["body"]).split()[:20] == record["body"].split()[:20]
    assert set(article) >= {"headline", "bullets", "body", "captions", "date", "source", "url", "categories"}


def test_article_ids_with_slashes_and_unknown_ids(client: TestClient) -> None:
    assert client.get(f"/api/articles/{FOUNDING_ID}").json()["headline"].startswith("Child ISIS fighter")
    for wrong in ("no-such-article", "corpus%2F..%2Fcorpus%2Ffounding-article.txt", "..%2F..%2F..%2Fetc%2Fpasswd",
                  "%2Fetc%2Fpasswd", "....//....//etc/passwd", "corpus/founding-article.txt%00"):
        answer = client.get(f"/api/articles/{wrong}")
        assert answer.status_code == 404, wrong
        assert answer.json()["error"].startswith("no article with id") and "root:" not in answer.text


def test_more_like_this(client: TestClient, searcher: Searcher) -> None:
    got = client.get(f"/api/like/{FOUNDING_ID}", params={"limit": 5}).json()
    expected = searcher.search(like=FOUNDING_ID, limit=5)
    assert [hit["id"] for hit in got["hits"]] == [hit.id for hit in expected.hits] and len(got["hits"]) == 5
    assert FOUNDING_ID not in [hit["id"] for hit in got["hits"]]
    assert client.get("/api/like/no-such-article").status_code == 404


@pytest.mark.parametrize("params, message", [
    ({"q": ""}, "give a query"),
    ({"q": "the of and"}, "no searchable words"),
    ({"q": "x" * 2_500}, "2,000"),
    ({"q": "blair", "since": "2020-13"}, "is not a date"),
    ({"q": "blair", "since": "2021", "until": "2020"}, "is after"),
    ({"q": "blair", "limit": "0"}, "limit must be between 1 and 100"),
    ({"q": "blair", "limit": "101"}, "limit must be between 1 and 100"),
    ({"q": "blair", "limit": "ten"}, "whole number"),
    ({"q": "blair", "offset": "-1"}, "offset must be at least 0"),
    ({"q": "blair", "offset": "99999"}, "offset must be between"),
    ({"q": "blair", "sort": "random"}, "unknown sort"),
    ({"q": "blair", "field": "password"}, "unknown field"),
    ({"q": "blair", "facets": "topic"}, "unknown facet"),
    ({"q": "blair", "exact": "maybe"}, "exact must be"),
    ({"q": "blair", "context": "50"}, "context must be between"),
])
def test_bad_input_is_a_400_with_one_line(client: TestClient, params: dict[str, str], message: str) -> None:
    answer = client.get("/api/search", params=params)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert message in error and "\n" not in error and "Traceback" not in answer.text
    assert client.get("/api/search", params={"q": "blair"}).status_code == 200  # and it keeps serving


def test_health_names_the_serving_generation(client: TestClient, index: Path, searcher: Searcher) -> None:
    got = client.get("/healthz").json()
    assert got["status"] == "ok" and got["generation"] == IndexStore(index).current_name()
    assert got["articles"] == 1 + 401 + 969 + 2 and got["engine"] == "whoosh" and got["warning"] is None


def test_only_reading_methods(client: TestClient, index: Path) -> None:
    before = sorted((p, p.stat().st_mtime_ns) for p in index.rglob("*"))
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        answer = client.request(method, "/api/search?q=blair")
        assert answer.status_code == 405 and answer.json() == {"error": "this server only reads: use GET"}
    client.get("/api/search", params={"q": "blair", "facets": "all"})
    client.get("/?q=blair")
    assert sorted((p, p.stat().st_mtime_ns) for p in index.rglob("*")) == before


def test_an_overlong_address_is_refused(client: TestClient) -> None:
    answer = client.get("/api/search", params={"q": "blair " * 2_000})
    assert answer.status_code == 414 and "too long" in answer.json()["error"]


# -- the page ---------------------------------------------------------------------------------------

def visible(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_page_shows_counts_marks_facets_and_paging(client: TestClient, searcher: Searcher) -> None:
    total = searcher.search("coronavirus").total
    page = client.get("/", params={"q": "coronavirus"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f"showing 1–10 of {total:,} articles" in visible(page.text)
    assert page.text.count("<mark>coronavirus</mark>") + page.text.count("<mark>Coronavirus</mark>") >= 10
    first = searcher.search("coronavirus", limit=1).hits[0]
    assert page.text.index(first.headline.split()[0]) < page.text.index('<nav class="paging"')
    assert '<a href="/?q=coronavirus&amp;category=news">news</a>' in page.text
    second = client.get("/", params={"q": "coronavirus", "offset": 10})
    assert f"showing 11–20 of {total:,} articles" in visible(second.text) and 'rel="prev"' in second.text
    narrowed = client.get("/", params={"q": "coronavirus", "category": "news"})
    news = searcher.search("coronavirus", category="news").total
    assert f"of {news:,} articles" in visible(narrowed.text) and "category news" in visible(narrowed.text)


def test_page_says_how_many_articles_have_every_word(client: TestClient, searcher: Searcher) -> None:
    results = searcher.search("coronavirus vaccine")
    assert 0 < results.all_words < results.total  # some articles have both words, more have one
    page = visible(client.get("/", params={"q": "coronavirus vaccine"}).text)
    count = f"{results.all_words:,} article{' has' if results.all_words == 1 else 's have'}"
    assert f"{count} every word, ranked first; then articles with some of them." in page
    assert "every word" not in visible(client.get("/", params={"q": "coronavirus"}).text)


def test_page_offers_the_typed_words_after_a_correction(client: TestClient) -> None:
    page = client.get("/", params={"q": "coronavirsu vaccine"})
    assert "Showing results for coronavirus vaccine . Search instead for coronavirsu vaccine ." in visible(page.text)
    assert 'href="/?q=coronavirsu+vaccine&amp;exact=1"' in page.text
    typed = client.get("/", params={"q": "coronavirsu vaccine", "exact": "1"})
    assert "Showing results for" not in typed.text


def test_article_page_marks_the_query_and_links_similar_articles(client: TestClient, searcher: Searcher) -> None:
    page = client.get("/article", params={"id": FOUNDING_ID, "q": "Jalalabad checkpoints"})
    assert page.status_code == 200
    assert "<mark>Jalalabad</mark>" in page.text and "<mark>checkpoints</mark>" in page.text
    assert "Child ISIS fighter" in page.text and 'href="/like?id=corpus%2Ffounding-article.txt">More like this' in page.text
    similar = client.get("/like", params={"id": FOUNDING_ID})
    first = searcher.search(like=FOUNDING_ID, limit=1).hits[0]
    assert similar.status_code == 200 and "More like" in similar.text and first.id in similar.text
    assert client.get("/article", params={"id": "nothing/here"}).status_code == 404


def test_bad_page_input_is_a_page_not_a_traceback(client: TestClient) -> None:
    page = client.get("/", params={"q": "blair", "since": "last week"})
    assert page.status_code == 400 and "is not a date" in page.text and page.headers["content-type"].startswith("text/html")
    assert client.get("/no/such/page").status_code == 404


def test_everything_from_an_article_is_escaped(client: TestClient, searcher: Searcher) -> None:
    text_file = searcher.article(HOSTILE_TEXT_ID)
    assert text_file is not None and text_file.headline.startswith("<script>alert(1)</script>")  # kept as read
    pages = [client.get("/", params={"q": "Zanzibarian"}).text,
             client.get("/article", params={"id": HOSTILE_TEXT_ID, "q": "ferry"}).text,
             client.get("/article", params={"id": HOSTILE_ID, "q": "ferry"}).text,
             client.get("/like", params={"id": HOSTILE_ID}).text]
    assert "Zanzibarian" in pages[0] and HOSTILE["source"] == searcher.article(HOSTILE_ID).source  # type: ignore[union-attr]
    for html in pages:
        for markup in ("<script", "<img", "<iframe", "<svg", "<i>", "<b>", "javascript:"):
            assert markup not in html
    for html in pages[:2]:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "&lt;svg onload=alert(6)&gt;" in pages[2] and "&lt;i&gt;weird&lt;/i&gt;" in pages[2]
    assert HOSTILE_ID.replace('"', "&#34;").replace("<", "&lt;").replace(">", "&gt;") in pages[2]
    stored = client.get("/api/articles/" + HOSTILE_ID.replace('"', "%22")).json()
    assert stored["url"] == HOSTILE["url"]  # the API returns data as stored: it is JSON, not HTML


def test_responses_keep_the_page_self_contained(client: TestClient) -> None:
    page = client.get("/", params={"q": "blair"})
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert not re.search(r'(src|href)="(https?:)?//', page.text)  # no outside fonts, scripts or styles
    assert client.get("/static/style.css").status_code == 200


# -- safety -----------------------------------------------------------------------------------------

def test_a_token_is_needed_on_every_request(searcher: Searcher) -> None:
    guarded = TestClient(create_app(searcher, token=TOKEN), raise_server_exceptions=False)
    assert guarded.get("/api/search", params={"q": "blair"}).status_code == 401
    assert guarded.get("/api/search", params={"q": "blair"}, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert guarded.get("/api/search", params={"q": "blair"}, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert guarded.get("/healthz").status_code == 401
    form = guarded.get("/", params={"q": "blair"})
    assert form.status_code == 401 and 'name="token"' in form.text and "blair" not in form.text
    assert guarded.get("/static/style.css").status_code == 200  # the form's own style
    wrong = guarded.post("/login", data={"token": "guess"}, follow_redirects=False)
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
    right = guarded.post("/login", data={"token": TOKEN}, follow_redirects=False)
    assert right.status_code == 303 and "httponly" in right.headers["set-cookie"].lower()
    assert guarded.get("/", params={"q": "blair"}).status_code == 200  # the cookie it set
    guarded.cookies.clear()
    assert guarded.get("/", params={"q": "blair"}).status_code == 401


class SlowSearcher(Searcher):
    """A real Searcher whose searches take longer than the time budget the test gives the app."""

    def search(self, *arguments: object, **options: object):  # type: ignore[override]
        time.sleep(1.5)
        return super().search(*arguments, **options)  # type: ignore[arg-type]


def test_a_request_over_its_time_budget_is_a_503(index: Path) -> None:
    with SlowSearcher(index) as slow:
        hurried = TestClient(create_app(slow, time_budget=0.3), raise_server_exceptions=False)
        answer = hurried.get("/api/search", params={"q": "blair"})
        assert answer.status_code == 503 and "longer than 0.3 s" in answer.json()["error"]
        assert hurried.get("/healthz").json()["status"] == "ok"  # the rest keeps answering


def test_a_damaged_generation_is_served_around(tmp_path: Path) -> None:
    """A rebuild switches to a generation whose files are then truncated before the server opens it:
    the older generation answers, and the answers and the health check say so."""
    from conftest import BBC, BUNDLED_CORPUS

    from indexer import build_index
    from indexer.config import Config

    index = tmp_path / "index"
    folders = [BUNDLED_CORPUS, BBC / "tech"]
    build_index(folders, index, Config(index_dir=index))
    with Searcher(index) as searcher:
        client = TestClient(create_app(searcher), raise_server_exceptions=False)
        assert client.get("/api/search", params={"q": "broadband"}).json()["total"] > 0
        build_index(folders, index, Config(index_dir=index), mode="rebuild")
        serving = index / IndexStore(index).current_name()
        for part in serving.iterdir():
            if part.suffix in (".pst", ".trm"):
                part.write_bytes(part.read_bytes()[:16])
        answer = client.get("/api/search", params={"q": "broadband"})
        assert answer.status_code == 200 and answer.json()["total"] > 0
        assert "damaged" in answer.json()["warning"] and "search-index rebuild" in answer.json()["warning"]
        health = client.get("/healthz").json()
        assert health["status"] == "degraded" and health["answering"] != health["generation"] == serving.name
        page = client.get("/", params={"q": "broadband"})
        assert page.status_code == 200 and "damaged" in page.text
