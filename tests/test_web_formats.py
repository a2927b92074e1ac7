"""HTML pages, RSS/Atom feeds, NITF, Reuters-21578 SGML and gzip: read as readers see them.

Samples in tests/data/web are shaped like the real thing (a Daily Mail article page made from the
founding article, BBC and Slashdot RSS, a Guardian Atom feed, an AP NITF story); Reuters is the real
collection from ../shared/corpora. Hostile files (bombs, external entities, broken markup) are read
without expanding, fetching or hanging, and reported by path and reason.
"""
from __future__ import annotations

import gzip
import json
import random
import shutil
from pathlib import Path

import pytest
from conftest import BUNDLED_CORPUS, CORPORA

from indexer import build_index
from indexer.config import Config
from indexer.models import Article, Notice, Skipped
from indexer.readers import CorpusFile, find_files, path_text, read_file
from query import search

WEB = Path(__file__).parent / "data" / "web"
CAP = 10 * 1024 * 1024
REUTERS = CORPORA / "reuters21578"


def read(path: Path) -> list[Article | Skipped | Notice]:
    stat = path.stat()
    return list(read_file(CorpusFile(path, path.parent, stat.st_size, stat.st_mtime_ns), CAP))


def articles(path: Path) -> list[Article]:
    return [i for i in read(path) if isinstance(i, Article)]


def problems(path: Path) -> list[str]:
    return [str(i) for i in read(path) if not isinstance(i, Article)]


def test_a_saved_news_page_gives_the_article_as_the_founding_text_has_it() -> None:
    (page,) = articles(WEB / "founding-article.html")
    (text,) = articles(BUNDLED_CORPUS / "founding-article.txt")
    assert page.headline == text.headline  # og:title, without " | Daily Mail Online"
    assert page.bullets == text.bullets
    assert page.body == text.body  # menus, cookie banner, related links, ads and comments left out
    assert page.captions == text.captions  # imageCaption paragraphs and alt text: captions, not body
    assert page.date == "2018-08-01"  # published, not the updated time beside it
    assert page.source == "Mail Online" and page.categories == ("news",)
    assert page.url and page.url.startswith("https://www.dailymail.co.uk/news/article-6016171/")
    words = " ".join(page.body).lower()
    for chrome in ("cookies", "related articles", "advertisement", "good riddance", "share or comment", "tracking pixel"):
        assert chrome not in words


def test_figure_captions_and_standfirst_of_another_site(tmp_path: Path) -> None:
    page = tmp_path / "storm.htm"
    page.write_text("""<html><head><title>Storm hits coast - The Herald</title><meta property="og:site_name" content="The Herald">
<meta name="description" content="Thousands without power after the storm."></head><body><header><nav><a href="/">Home</a></nav></header>
<main><article><h1>Storm hits coast</h1><time datetime="2021-02-14T09:00:00Z">14 February 2021</time>
<figure><img src="IMG_2041.JPG" alt="IMG_2041.JPG"><figcaption>Waves broke over the harbour wall on Sunday.</figcaption></figure>
<p>The storm arrived overnight with winds of 90mph, bringing down power lines across the region and closing roads.</p>
<p>Engineers worked through the night to restore supplies to thousands of homes, the electricity company said.</p>
<p>More rain is forecast for Tuesday, with flood warnings in place for low-lying areas along the river.</p>
<aside><h3>Related</h3><ul><li><a href="/x">Other storm story</a></li></ul></aside></article></main>
<footer>Copyright The Herald</footer></body></html>""", encoding="utf-8")
    (article,) = articles(page)
    assert article.headline == "Storm hits coast" and article.source == "The Herald"
    assert article.bullets == ("Thousands without power after the storm.",)
    assert article.captions == ("Waves broke over the harbour wall on Sunday.",)  # a file name is not a caption
    assert len(article.body) == 3 and article.body[0].startswith("The storm arrived overnight")


def test_rss_items_are_articles() -> None:
    first, second, third = articles(WEB / "bbc-world.rss")
    assert first.id == "https://www.bbc.co.uk/news/world-asia-45034186"
    assert first.headline == "IS militants surrender to Afghan forces in Jowzjan"
    assert first.bullets == ("More than 150 fighters, including their leaders, give themselves up after weeks of fighting with the Taliban.",)
    assert first.body == ("More than 150 Islamic State militants have surrendered to Afghan forces in the northern province of Jowzjan.",
                          "Officials described the surrender as a turning point & said the group's presence in the north was over.")
    assert "Afghan soldiers at a checkpoint near Sheberghan" in first.captions
    assert first.date == "2018-08-01T12:47:31+00:00" and second.date == "2018-07-24T08:03:11+01:00"
    assert first.categories == ("Asia", "Afghanistan") and first.source == "BBC News - World"
    assert third.id == "bbc-world.rss#3" and third.date is None  # no guid, no link; a date that is none
    assert problems(WEB / "bbc-world.rss") == [f"{WEB / 'bbc-world.rss'}: 1 date(s) not understood, indexed undated (first: 'sometime last week')"]


def test_rss_1_and_atom_feeds() -> None:
    (item,) = articles(WEB / "slashdot.rdf.xml")  # .xml read by its root element, rdf:RDF
    assert item.headline == "Comet Dust Found In Antarctic Snow" and item.source == "Slashdot"
    assert item.date == "2018-08-01T18:40:00+00:00" and item.categories == ("science",)
    kabul, content_only = articles(WEB / "guardian-world.atom")
    assert kabul.headline == "Kabul airport attack kills 23"  # HTML title reduced to its text
    assert kabul.date == "2018-07-22T19:05:00+04:30"  # published, not updated
    assert kabul.bullets == ("A suicide bomber struck near the airport as the vice-president returned from exile.",)
    assert len(kabul.body) == 2 and kabul.categories == ("Afghanistan", "World news")
    assert content_only.bullets == () and content_only.body[0].startswith("An entry with content and no summary")
    assert content_only.url is None  # a tag: id is not a link


def test_nitf_wire_story() -> None:
    (story,) = articles(WEB / "ap-wire.nitf.xml")
    assert story.headline == "Afghan army takes over security in Jalalabad"
    assert story.bullets == ("The Afghan National Army has set up checkpoints across Jalalabad after a string of attacks.",)
    assert story.captions == ("Afghan soldiers stand guard at a checkpoint in Jalalabad on Wednesday.",)
    assert len(story.body) == 3 and "Afghan soldiers stand guard" not in " ".join(story.body)
    assert story.date == "2018-08-01T09:45:00+04:30" and story.source == "Associated Press"
    assert story.categories == ("Afghanistan", "Islamic State", "war")


def test_newsml_g2_message_gives_each_text_item_and_reports_the_picture() -> None:
    found = read(WEB / "wire-message.newsml.xml")
    barrier, strike = [a for a in found if isinstance(a, Article)]
    assert barrier.id == "urn:newsml:wire.example.org:20240312:flood-defences"
    assert barrier.headline == "Thames Barrier closes twice in a week as spring tides meet heavy rain"
    assert barrier.bullets == ("The barrier protecting London from tidal surges was raised on Monday and again on Thursday.",)
    assert barrier.body[0].startswith("LONDON (Example Wire) - The Thames Barrier closed twice") and len(barrier.body) == 2
    assert "The barrier's gates raised against the tide at Woolwich." in barrier.captions
    assert barrier.date == "2024-03-12T07:30:00+00:00" and barrier.source == "Example Wire"  # created, not the version
    assert barrier.categories == ("environment", "flooding", "Thames Barrier")  # English names; bare codes dropped
    # a story carried as inline NITF: the item's headline, NITF's abstract and paragraphs
    assert strike.headline == "Rail unions call off weekend strike after pay offer"
    assert strike.bullets == ("Drivers will vote on the offer next month.",) and strike.body[1].startswith("Commuters")
    assert strike.date == "2024-03-12T08:55:00+00:00" and strike.categories == ("labour",)
    assert [str(i) for i in found if isinstance(i, Skipped)] == [f"{path_text(WEB / 'wire-message.newsml.xml')}: item 3: a picture item, without text"]


def test_a_lone_newsml_g2_item_with_plain_text_is_searchable(tmp_path: Path) -> None:
    (report,) = articles(WEB / "market-report.newsml.xml")
    assert report.id == "market-report.newsml.xml" and report.source == "Example Wire"
    assert report.date == "2024-03-11T16:40:00+00:00" and report.body[1] == "Antofagasta and Glencore led the gains."
    corpus = tmp_path / "wire"
    corpus.mkdir()
    for name in ("market-report.newsml.xml", "wire-message.newsml.xml", "ap-wire.nitf.xml"):
        shutil.copy(WEB / name, corpus / name)
    index = tmp_path / "index"
    build_index([corpus], index, Config(index_dir=index))
    assert [hit.id for hit in search("copper miners", index=index).hits][:1] == ["market-report.newsml.xml"]
    top = search("spring tides barrier", index=index).hits[0]
    assert top.id.endswith("flood-defences") and any("tides" in s.text for s in top.snippets)


def test_every_reuters_document_is_read() -> None:
    files, _ = find_files([REUTERS])
    sgml = [f for f in files if f.path.suffix == ".sgm"]
    assert len(sgml) == 22
    found: list[Article] = []
    skipped: list[Skipped] = []
    for file in sgml:
        for item in read_file(file, CAP):
            (found if isinstance(item, Article) else skipped).append(item)  # type: ignore[arg-type]
    assert len(found) + len(skipped) == 21_578  # NEWID 1 to 21578
    assert [(s.reason, s.line) for s in skipped] == [("document NEWID 12793: no text (empty or whitespace only)", 25983)]
    first = next(a for a in found if a.id == "reut2-000.sgm#1")
    assert first.headline == "BAHIA COCOA REVIEW" and first.date == "1987-02-26T15:01:01" and first.line == 2
    assert first.categories == ("cocoa", "el-salvador", "usa", "uruguay") and first.source == "Reuters"
    assert first.body[0].startswith("Showers continued throughout the week in the Bahia cocoa zone")
    assert not first.body[-1].endswith("Reuter")
    assert len({a.id for a in found}) == len(found)


def test_every_format_reads_the_same_gzipped(tmp_path: Path) -> None:
    samples = [WEB / "founding-article.html", WEB / "bbc-world.rss", WEB / "guardian-world.atom", WEB / "ap-wire.nitf.xml",
               REUTERS / "reut2-000.sgm", BUNDLED_CORPUS / "founding-article.txt"]
    (tmp_path / "feed.jsonl").write_text("\n".join(json.dumps({"headline": f"Story {n}", "body": "Text."}) for n in range(3)) + "\n")
    samples.append(tmp_path / "feed.jsonl")
    for sample in samples:
        packed = tmp_path / f"{sample.name}.gz"
        packed.write_bytes(gzip.compress(sample.read_bytes()))
        plain = [(a.headline, a.body, a.captions, a.date) for a in articles(sample)]
        assert plain and [(a.headline, a.body, a.captions, a.date) for a in articles(packed)] == plain, sample.name
    files, _ = find_files([tmp_path])
    assert any(f.path.name == "reut2-000.sgm.gz" for f in files)


def xml_bomb(root: str) -> str:
    entities = ['<!ENTITY a "lollollollollollollollollollol">'] + [
        f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">' for n in range(9)]
    return f'<?xml version="1.0"?><!DOCTYPE {root} [{"".join(entities)}]>'


def external(root: str, secret: Path) -> str:
    return f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY x SYSTEM "file://{secret}"><!ENTITY n SYSTEM "http://127.0.0.1:9/x">]>'


@pytest.mark.parametrize("name, body", [
    ("bomb.rss", '<rss version="2.0"><channel><title>t</title><item><title>Bomb &j;</title><description>lol &j;</description></item></channel></rss>'),
    ("bomb.atom", '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>1</id><title>Bomb &j;</title><content>lol &j;</content></entry></feed>'),
    ("bomb.xml", "<nitf><body><body.head><hedline><hl1>Bomb &j;</hl1></hedline></body.head><body.content><p>lol &j;</p></body.content></body></nitf>"),
    ("bomb.newsml.xml", '<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/"><contentMeta><headline>Bomb &j;</headline></contentMeta>'
                        '<contentSet><inlineData>lol &j;</inlineData></contentSet></newsItem>'),
    ("bomb.html", "<html><body><h1>Bomb &j;</h1><p>lol &j; and enough words to make a paragraph of an article page.</p></body></html>"),
])
def test_xml_bombs_are_never_expanded(tmp_path: Path, name: str, body: str) -> None:
    path = tmp_path / name
    root = body[1:body.index(" ") if body.index(" ") < body.index(">") else body.index(">")]
    path.write_text(xml_bomb(root) + body, encoding="utf-8")
    items = read(path)
    text = " ".join(" ".join((a.headline, *a.body, *a.bullets)) for a in items if isinstance(a, Article))
    assert "lollollol" not in text  # a billion laughs never happen
    assert all(isinstance(i, (Article, Notice)) or "XML" in i.reason for i in items), items


@pytest.mark.parametrize("name, body", [
    ("xxe.rss", '<rss version="2.0"><channel><title>t</title><item><title>Leak &x; &n;</title><description>d</description></item></channel></rss>'),
    ("xxe.atom", '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>1</id><title>Leak &x;</title><content>&n;</content></entry></feed>'),
    ("xxe.xml", "<nitf><body><body.head><hedline><hl1>Leak &x;</hl1></hedline></body.head><body.content><p>&n; text</p></body.content></body></nitf>"),
    ("xxe.newsml.xml", '<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/"><contentMeta><headline>Leak &x;</headline></contentMeta>'
                       '<contentSet><inlineData>&n; text</inlineData></contentSet></newsItem>'),
    ("xxe.html", "<html><body><h1>Leak &x;</h1><p>&n; and enough words to make a paragraph of an article page here.</p></body></html>"),
])
def test_external_entities_are_never_read_or_fetched(tmp_path: Path, name: str, body: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRETVALUE", encoding="utf-8")
    (tmp_path / "corpus").mkdir()
    path = tmp_path / "corpus" / name
    root = body[1:min(i for i in (body.index(" "), body.index(">")) if i > 0)]
    path.write_text(external(root, secret) + body, encoding="utf-8")
    items = read(path)
    assert "TOPSECRETVALUE" not in repr(items)
    assert any(isinstance(i, Article) for i in items) or all("XML" in str(i) for i in items)


@pytest.mark.parametrize("name, content, reason", [
    ("broken.xml", b"<nitf><body><p>unclosed", "not well-formed XML"),
    ("settings.xml", b'<?xml version="1.0"?><config><a>1</a></config>', "root element <config> is neither a news feed"),
    ("pictures.xml", b'<newsMessage xmlns="http://iptc.org/std/nar/2006-10-01/"><header/></newsMessage>', "a NewsML-G2 message without items"),
    ("empty.rss", b"", "no text"),
    ("page.rss", b"<html><body><p>A web page named .rss</p></body></html>", "a feed without items"),
    ("nothing.html", b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "no text"),
    ("binary.html", bytes(range(256)) * 10, "binary file"),
    ("reut2-bad.sgm", b'<REUTERS NEWID="7"><TEXT><TITLE>Open</TITLE><BODY>never closed', "no </REUTERS> end tag"),
    ("plain.sgm", b"just text, no documents", "no <REUTERS> documents"),
    ("not-gzip.txt.gz", b"plain text named .gz", "not a valid gzip file"),
])
def test_broken_files_are_reported_with_their_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    (problem,) = problems(path)
    assert problem.startswith(f"{path}") and reason in problem, problem


def test_a_broken_feed_is_read_leniently_and_its_unreadable_item_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.rss"
    path.write_text("<rss><channel><title>Wire & co</title><item><title>Item one & more</title>"
                    "<description>fine <b>bold</description></item><item><title>", encoding="utf-8")
    items = read(path)
    assert [a.headline for a in items if isinstance(a, Article)] == ["Item one & more"]
    assert any(isinstance(i, Notice) and "read leniently" in i.message for i in items)


def test_a_gzip_bomb_costs_bounded_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.html.gz"
    bomb.write_bytes(gzip.compress(b"<p>" + b"a" * (200 << 20), compresslevel=9))  # 200 MB from 200 kB
    (problem,) = problems(bomb)
    assert problem.startswith(f"{bomb}: ") and ("inflates past 10,485,760 bytes" in problem or "decompresses to more than" in problem)
    lines = tmp_path / "bomb.jsonl.gz"
    lines.write_bytes(gzip.compress(b'{"headline": "x"}\n' + b" " * (200 << 20), compresslevel=9))
    items = read(lines)
    assert isinstance(items[0], Article) and "gzip data inflates past" in str(items[-1])


def test_a_truncated_gzip_is_reported(tmp_path: Path) -> None:
    rng = random.Random(16)
    text = "Headline\n\n" + " ".join(rng.choice(["storm", "wind", "power", "coast", "rain"]) for _ in range(200_000))
    data = gzip.compress(text.encode())
    cut = tmp_path / "cut.txt.gz"
    cut.write_bytes(data[: len(data) // 2])
    (problem,) = problems(cut)
    assert "not a valid gzip file" in problem


def test_gzipped_corpus_documentation_is_not_an_article(tmp_path: Path) -> None:
    shutil.copy(REUTERS / "README.txt", tmp_path / "README.txt")
    (tmp_path / "README.txt.gz").write_bytes(gzip.compress(b"about"))
    (tmp_path / "a.html.gz").write_bytes(gzip.compress((WEB / "founding-article.html").read_bytes()))
    files, _ = find_files([tmp_path])
    assert [f.path.name for f in files] == ["a.html.gz"]
