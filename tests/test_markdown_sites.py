"""Markdown as real sites write it: the 509 posts of 18F's Eleventy/Jekyll blog (../shared/corpora/markdown_18f),
read and searched as a user would, and small files for each edge that sites produce."""
from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import yaml
from conftest import CORPORA
from test_readers import read_all, read_one

from indexer import build_index
from indexer.config import Config
from indexer.models import Article, Notice
from query import Searcher

SITE = CORPORA / "markdown_18f"
POSTS = SITE / "posts"
MARKUP = ("{%", "%}", "{{", "}}", "](", "<div", "{#", "<!--", "&mdash;", "&amp;")
# Words of the posts' own subjects, and words of the template code and markup around them.
QUERIES = (
    '"hero hacker"', "jekyll", "liquid template", "image", "html", "github pages", "federalist", "oracle password",
    "login.gov", "analytics", "accessibility", "agile procurement", "open source", "api", "cloud.gov", "design",
    "content", "url", "script", "div", "figure", "comment", "raw", "button", "instagram", "table", "https",
    "micro-purchase", "personas", "onboarding bot", "spreadsheet formulas",
)
# Words that occur in the posts only inside template tags or HTML attributes: no reader sees them.
UNSEEN = ("baseurl", "endraw", "iframe", "speakerdeck", "frameborder", "allowfullscreen")


def front_matter(path: Path) -> dict:
    """A post's front matter, read here independently of the project's reader (tabs as the sites read them)."""
    text = path.read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---\n", text, re.DOTALL)
    return yaml.safe_load(match.group(1).replace("\t", "  ")) if match else {}


def as_read(title: str) -> str:
    """A title as a reader sees it: entities decoded, tags gone, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", "", html.unescape(title)).split())


@pytest.fixture(scope="module")
def posts() -> dict[str, Article]:
    articles, skipped = read_all(SITE)
    assert skipped == []
    return {Path(a.path).name: a for a in articles}


@pytest.fixture(scope="module")
def site_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("index-18f")
    report = build_index([SITE], index, Config(index_dir=index))
    assert report.indexed == 509 and not report.skipped
    return index


def test_every_post_is_read_with_its_title_as_headline(posts: dict[str, Article]) -> None:
    files = sorted(POSTS.glob("*.md"))
    assert len(files) == len(posts) == 509
    for path in files:
        title = front_matter(path)["title"]
        assert posts[path.name].headline == as_read(str(title)), path.name


def test_a_first_heading_repeating_the_title_is_not_in_the_body(tmp_path: Path) -> None:
    path = tmp_path / "post.md"
    path.write_text("---\ntitle: Budget talks resume\n---\n# Budget talks resume\n\nMinisters met again.\n\n## Background\n\nTalks broke down in May.\n")
    article = read_one(path)
    assert article.headline == "Budget talks resume"
    assert article.body == ("Ministers met again.", "Background", "Talks broke down in May.")


def test_every_post_is_dated_from_front_matter_or_file_name(posts: dict[str, Article]) -> None:
    from_front_matter = 0
    for path in sorted(POSTS.glob("*.md")):
        date = posts[path.name].date
        assert date and re.fullmatch(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}([+-]\d{2}:\d{2})?)?", date), (path.name, date)
        written = front_matter(path).get("date")
        if written:
            from_front_matter += 1
            assert date[:10] == str(written)[:10], path.name
        else:
            assert date == path.name[:10], path.name
    assert from_front_matter == 422  # the other 87 posts are dated by their file names, as the site does


def test_dates_keep_the_time_and_zone_written(posts: dict[str, Article]) -> None:
    assert posts["2014-03-27-uncle-sam-wants-you-to-be-a-hero-hacker.md"].date == "2014-03-27T15:37:00-04:00"


def test_tags_become_categories_for_every_post_that_has_them(posts: dict[str, Article]) -> None:
    tagged = 0
    for path in sorted(POSTS.glob("*.md")):
        tags = front_matter(path).get("tags") or []
        if tags:
            tagged += 1
            assert list(posts[path.name].categories) == [" ".join(str(t).split()) for t in tags], path.name
    assert tagged == 509
    assert posts["2014-03-27-uncle-sam-wants-you-to-be-a-hero-hacker.md"].categories == ("presidential innovation fellows", "talent")


def test_the_description_is_the_bullet_when_a_post_has_no_bullet_list(posts: dict[str, Article]) -> None:
    post = posts["2014-03-27-uncle-sam-wants-you-to-be-a-hero-hacker.md"]
    assert len(post.bullets) == 1, "description and excerpt are equal: one bullet"
    assert post.bullets[0].startswith("The Presidential Innovation Fellows program is now accepting applications")


def test_no_post_keeps_template_code_or_markup(posts: dict[str, Article]) -> None:
    found = [(name, mark, section) for name, post in posts.items() for section in ("headline", "bullets", "body", "captions")
             for text in post.section_text(section) for mark in MARKUP if mark in text]
    assert found == []


def test_image_tags_give_alt_text_never_file_names(posts: dict[str, Article]) -> None:
    captions = [c for p in posts.values() for c in p.captions]
    assert "a mockup of our app on an iPhone" in captions  # {% image "assets/blog/foia/in-hand.jpg" "a mockup of ..." %}
    assert not [c for c in captions if re.search(r"\.(png|jpe?g|gif)\b|assets/", c)]


def test_hero_hacker_finds_the_post_by_its_title(site_index: Path) -> None:
    with Searcher(site_index) as searcher:
        results = searcher.search('"hero hacker"')
    assert results.hits[0].id == "posts/2014-03-27-uncle-sam-wants-you-to-be-a-hero-hacker.md"
    assert results.hits[0].headline == "Uncle Sam wants YOU to be a hero hacker"


@pytest.mark.parametrize("query", QUERIES)
def test_no_snippet_shows_template_or_link_markup(site_index: Path, query: str) -> None:
    with Searcher(site_index) as searcher:
        results = searcher.search(query, limit=50)
    assert results.hits, query
    shown = [(hit.id, snippet.text) for hit in results.hits for snippet in hit.snippets]
    assert shown
    assert [(hit_id, text) for hit_id, text in shown if any(mark in text for mark in MARKUP)] == []


@pytest.mark.parametrize("word", UNSEEN)
def test_words_of_template_code_and_tags_are_not_indexed(site_index: Path, word: str) -> None:
    with Searcher(site_index) as searcher:
        assert searcher.search(word, exact=True).total == 0


def test_sort_by_date_puts_the_newest_post_first(site_index: Path) -> None:
    with Searcher(site_index) as searcher:
        every = searcher.search("18F", limit=600).hits
        newest = searcher.search("18F", sort="date", limit=20).hits
    dates = [hit.date for hit in newest]
    assert len(every) > 400 and all(dates)
    assert dates == sorted(dates, reverse=True)  # type: ignore[type-var]
    assert dates[0] == max(hit.date for hit in every)  # type: ignore[type-var]


# --- small files for each edge --------------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Article:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_one(path)


def test_front_matter_with_tabs_is_read_leniently(tmp_path: Path) -> None:
    article = write(tmp_path, "tabs.md", "---\ntitle: Tabbed post\ntags:\n- melody\t\t\n- rhythm\n---\n\nBody text.\n")
    assert (article.headline, article.categories) == ("Tabbed post", ("melody", "rhythm"))


def test_front_matter_broken_beyond_tabs_is_still_skipped(tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_text("---\ntitle: [unclosed\n\tdate: x\n---\nBody.\n", encoding="utf-8")
    articles, skipped = read_all(tmp_path)
    assert not articles and "invalid YAML front matter" in skipped[0].reason


def test_toml_front_matter_as_hugo_writes_it(tmp_path: Path) -> None:
    article = write(tmp_path, "hugo.md", '+++\ntitle = "Hugo post"\ndate = 2021-06-01T08:00:00Z\ntags = ["go", "sites"]\n+++\n\nText.\n')
    assert (article.headline, article.date, article.categories) == ("Hugo post", "2021-06-01T08:00:00+00:00", ("go", "sites"))


def test_a_commented_out_script_does_not_hide_the_rest(tmp_path: Path) -> None:
    article = write(tmp_path, "comment.md", "# Title\n\n<!-- <script> -->\n\nFirst paragraph stays.\n\n<div><!-- <script> --> Inline stays too</div>\n\n"
                                           "<script>\nvar hidden = 'xylophone';\n\nstill script\n</script>\n\nLast paragraph.\n")
    assert article.body == ("First paragraph stays.", "Inline stays too", "Last paragraph.")


def test_a_greater_than_sign_in_an_attribute_does_not_cut_the_tag(tmp_path: Path) -> None:
    article = write(tmp_path, "attr.md", '# Title\n\n<div title="a > b" class="note">Visible note</div>\n\nInline <span title="x > y">span text</span> here.\n')
    assert article.body == ("Visible note", "Inline span text here.")


def test_entities_are_decoded_everywhere(tmp_path: Path) -> None:
    article = write(tmp_path, "entities.md", "---\ntitle: Rock &amp; roll&#39;s &ldquo;return&rdquo;\ndescription: Caf&eacute; &mdash; open\n---\n\n"
                                             "Fish &amp; chips &nbsp;today.\n\n<p>Tom &amp; Jerry &#8212; again</p>\n")
    assert article.headline == "Rock & roll's “return”"
    assert article.bullets == ("Café — open",)
    assert article.body == ("Fish & chips today.", "Tom & Jerry — again")


def test_template_tags_and_shortcodes_are_removed(tmp_path: Path) -> None:
    article = write(tmp_path, "templates.md", (
        '---\ntitle: Templates\n---\n\nSee [our guide]({{ "/guide/" | url }}) and {{ site.baseurl }}/x.\n\n'
        '{% image "assets/blog/chart.png" "A chart of visits" %}\n\n'
        '{{< figure src="/img/flood.jpg" alt="Flooded street" caption="Water in the square" >}}\n\n'
        "{{% notice info %}}Boxed words{{% /notice %}}\n\n{# a note to editors #}\n\n"
        "{% comment %}Hidden draft{% endcomment %}\n\n## Section {#section-anchor}\n\nAfter.\n{: .lead}\n\n<!-- more -->\n"
    ))
    assert article.body == ("See our guide and /x.", "Boxed words", "Section", "After.")
    assert article.captions == ("A chart of visits", "Flooded street", "Water in the square")


def test_links_are_their_text_and_images_their_captions(tmp_path: Path) -> None:
    article = write(tmp_path, "links.md", "# T\n\nRead [the report](https://example.org/r.pdf \"Report\") now.\n\n"
                                          "![A heron](birds/heron-2019.jpg) ![IMG_2041 (1).JPG](b.jpg)\n\n"
                                          "<div>Raw [link](https://x.org) in HTML</div>\n\n"
                                          '<figure><img src="a.png" alt="Alt words"><figcaption>Fig caption</figcaption></figure>\n')
    assert article.body == ("Read the report now.", "Raw link in HTML")
    assert article.captions == ("A heron", "Alt words", "Fig caption")
    assert "heron-2019" not in " ".join(article.body + article.captions)


@pytest.mark.parametrize("written,expected", [
    ("2019-02-14 09:24:00 -0500", "2019-02-14T09:24:00-05:00"),
    ("2014-03-27T15:37:00-04:00", "2014-03-27T15:37:00-04:00"),
    ("2015-04-28 10:45:00 -5", "2015-04-28T10:45:00-05:00"),
    ("2020-09-03T10:00:00Z", "2020-09-03T10:00:00+00:00"),
    ("2019-02-14", "2019-02-14"),
    ("'2019-02-14'", "2019-02-14"),
    ("Sep 3, 2020", "2020-09-03"),
    ("3 September 2020", "2020-09-03"),
    ("Thu, 03 Sep 2020 10:00:00 GMT", "2020-09-03T10:00:00+00:00"),
])
def test_date_forms(tmp_path: Path, written: str, expected: str) -> None:
    assert write(tmp_path, "dated.md", f"---\ntitle: Dated\ndate: {written}\n---\n\nText.\n").date == expected


def test_file_name_date_and_unreadable_date(tmp_path: Path) -> None:
    (tmp_path / "2021-03-04-named.md").write_text("---\ntitle: Named\n---\n\nText.\n", encoding="utf-8")
    (tmp_path / "2021-05-06-odd.md").write_text("---\ntitle: Odd\ndate: the day after tomorrow\n---\n\nText.\n", encoding="utf-8")
    (tmp_path / "undated.md").write_text("---\ntitle: Undated\ndate: 2019-02-30\n---\n\nText.\n", encoding="utf-8")
    notices: list[Notice] = []
    articles, skipped = read_all(tmp_path, notices=notices)
    assert not skipped
    assert {a.headline: a.date for a in articles} == {"Named": "2021-03-04", "Odd": "2021-05-06", "Undated": None}
    assert sorted((Path(n.path).name, n.message.split(" not understood")[0]) for n in notices) == [
        ("2021-05-06-odd.md", "date 'the day after tomorrow'"), ("undated.md", "date '2019-02-30'")]


@pytest.mark.parametrize("front,expected", [
    ("categories: world politics", ("world", "politics")),
    ("categories: [world, politics]\ntags: politics, elections", ("world", "politics", "elections")),
    ("category: World News", ("World News",)),
    ("keywords: flood, rain\ntopics:\n- weather", ("weather", "flood", "rain")),
])
def test_category_forms(tmp_path: Path, front: str, expected: tuple[str, ...]) -> None:
    assert write(tmp_path, "cats.md", f"---\ntitle: C\n{front}\n---\n\nText.\n").categories == expected
