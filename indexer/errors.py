"""The project's own exceptions: each carries a message a user can act on.

Only the CLIs turn these into exit codes and one-line messages; the library raises them.
"""
from __future__ import annotations


class ArticleSearchError(Exception):
    """Base class for every error the project reports to a user."""


class BadArticle(ArticleSearchError):
    """An article file or record that cannot be read; it is reported and skipped."""


class QueryError(ArticleSearchError):
    """A query that cannot be searched even as plain words."""


class IndexMissing(ArticleSearchError):
    """No index exists where one was expected."""


class IndexDamaged(ArticleSearchError):
    """An index exists but cannot be opened or read."""


class BuildFailed(ArticleSearchError):
    """A build failed; the previous index (if any) is still serving."""


class LockHeld(ArticleSearchError):
    """Another build or update holds the index lock."""


class CorpusMissing(ArticleSearchError):
    """A corpus folder given to a build or update does not exist (refused: it would empty the index)."""


class EngineUnavailable(ArticleSearchError):
    """The search service behind an index cannot answer: unreachable, unhealthy or unsupported."""
