"""The query's words in the text of the best hits, found once per hit and read twice: counted per
section for exact BM25F (`query.ranking.exact_bm25f`) and placed in sentences for proximity
(`query.proximity`).

Found as snippets find them (`query.snippets.matched_paragraphs`), not by analysing whole articles:
the 15 reordered hits cost about 1 ms a query with the native analyzer, 2.5 ms without (48k
articles). The hits shown pass them on to their snippets, which do not look again.
"""
from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Iterable, NamedTuple

from indexer.models import Article

from .snippets import Paragraph, matched_paragraphs, scanned_paragraphs
from .syntax import TermMatcher


class Found(NamedTuple):
    """One article's matching words: per section, its paragraphs that have any."""

    sections: dict[str, list[Paragraph]]

    def counts(self, section: str) -> Counter[str]:
        """How often each matched term occurs in the section (its term frequencies)."""
        return Counter(term for _, _, words in self.sections.get(section, ()) for term, _ in words)


def found_in(article: Article, matcher: TermMatcher, sections: Iterable[str]) -> Found:
    """The matching words of the article's sections, in the paragraphs snippets look at
    (`query.snippets.scanned_paragraphs`: every real article whole, a hostile one bounded)."""
    matches = lru_cache(maxsize=None)(matcher)  # an article repeats its words: ask once per word
    return Found({section: matched_paragraphs(scanned_paragraphs(article.section_text(section)), matcher, matches)
                  for section in sections})
