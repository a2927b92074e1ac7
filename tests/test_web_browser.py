"""The search page in headless Chromium, as a person uses it: type a query, press Enter, open the
first result, follow "More like this". Playwright drives Debian's chromium (/usr/bin/chromium,
installed by .ci/run with apt-get); no browser is downloaded, and the page fetches nothing from
elsewhere."""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Iterator

import pytest
from conftest import FOUNDING_ID
from web_support import Server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FOUNDING_HEADLINE = "Child ISIS fighter with a gun slung over his shoulder smiles"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[test]'")
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed: apt-get install -y chromium", allow_module_level=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def test_search_open_the_article_and_follow_more_like_this(browser: object, bbc_index: Path, tmp_path: Path) -> None:
    with Server(bbc_index, tmp_path / "server.log") as server:
        page = browser.new_page()  # type: ignore[attr-defined]
        elsewhere: list[str] = []
        page.on("request", lambda request: None if request.url.startswith(server.url) else elsewhere.append(request.url))
        page.goto(server.url + "/")
        box = page.get_by_label("Search the archive")
        box.fill("Jalalabad checkpoints")
        box.press("Enter")
        page.wait_for_url("**/?q=Jalalabad+checkpoints")
        # the one article with both words first, then articles with one of them (a query fills its page)
        assert re.fullmatch(r"showing 1–(\d+) of \1 articles?", page.locator("[role=status]").inner_text().strip())
        first = page.locator("ol.hits > li").first
        assert FOUNDING_HEADLINE in first.locator("h2").inner_text()
        assert {"Jalalabad", "checkpoints"} <= set(first.locator("mark").all_inner_texts())

        first.locator("h2 a").click()
        page.wait_for_url("**/article?id=*")
        assert FOUNDING_HEADLINE in page.locator("h1").inner_text()
        assert {"Jalalabad", "checkpoints"} <= set(page.locator("article mark").all_inner_texts())
        assert page.get_by_label("Search the archive").input_value() == "Jalalabad checkpoints"

        page.get_by_role("link", name="More like this").click()
        page.wait_for_url("**/like?id=*")
        assert FOUNDING_HEADLINE in page.locator("h1").inner_text()
        similar = page.locator("ol.hits > li h2 a")
        assert similar.count() == 10
        links = [similar.nth(n).get_attribute("href") or "" for n in range(similar.count())]
        assert all("/article?id=" in link for link in links) and not any(FOUNDING_ID.replace("/", "%2F") in link for link in links)
        assert elsewhere == []


def test_the_page_works_from_the_keyboard(browser: object, bbc_index: Path, tmp_path: Path) -> None:
    """Tab from the top reaches the skip link, then the search box; the facets and paging are links."""
    with Server(bbc_index, tmp_path / "server.log") as server:
        page = browser.new_page()  # type: ignore[attr-defined]
        page.goto(server.url + "/?q=prime+minister")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to the results"
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "q"
        page.keyboard.press("Control+A")
        page.keyboard.type("Blair election")
        page.keyboard.press("Enter")
        page.wait_for_url("**/?q=Blair+election")
        assert page.locator("[role=status]").inner_text().startswith("showing 1–10 of ")
        page.get_by_role("link", name="Next").press("Enter")
        page.wait_for_url("**offset=10")
        assert page.locator("[role=status]").inner_text().startswith("showing 11–20 of ")
