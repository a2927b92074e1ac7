"""One embedding per article, stored in the generation beside the engine's index, for any engine.

    gen-.../vectors.npy    float16 unit vectors, one row per article
    gen-.../vectors.json   the article id and source path of each row, and the model

Builds and updates write them through `VectorWriter`, which wraps the engine's writer: it sees every
article added (and embeds them in batches) and every file removed, and after the engine commits it
writes both files anew (atomic renames: an update's generation shares files with the serving one by hard
links, so nothing is changed in place). A generation and its vectors are switched in together.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

import numpy as np

from .config import Config
from .embeddings import MODEL, Embedder, model_missing
from .errors import ArticleSearchError
from .generations import VECTOR_IDS, VECTORS, write_atomic
from .models import Article

if TYPE_CHECKING:
    from .engines import EngineWriter

EMBED_BATCH = 256  # articles embedded at a time while building (memory stays flat)


class Vectors:
    """The article vectors of one generation."""

    def __init__(self, ids: list[str], paths: list[str], matrix: np.ndarray) -> None:
        # float32 in memory (a float16 product is slow in numpy): 1.5 KB per article, 74 MB at 48k
        self.ids, self.paths, self.matrix = ids, paths, matrix.astype(np.float32, copy=False)

    @classmethod
    def load(cls, directory: Path) -> "Vectors | None":
        """The generation's vectors, or None if it has none (built without semantic ranking)."""
        try:
            described = json.loads((directory / VECTOR_IDS).read_text(encoding="utf-8"))
            matrix = np.load(directory / VECTORS)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ArticleSearchError(f"the article vectors in {directory} are damaged ({exc}); rebuild with: search-index rebuild") from None
        if described.get("model") != MODEL or len(described["ids"]) != len(matrix):
            return None
        return cls(described["ids"], described["paths"], matrix)

    def save(self, directory: Path) -> None:
        """Write both files anew, each by an atomic rename (never into a file shared by hard link)."""
        partial = directory / f"vectors.partial-{os.getpid()}.npy"
        np.save(partial, self.matrix.astype(np.float16))
        os.replace(partial, directory / VECTORS)
        write_atomic(directory / VECTOR_IDS, json.dumps({"model": MODEL, "ids": self.ids, "paths": self.paths}))

    def nearest(self, query: np.ndarray, depth: int, admits: Callable[[str], bool] | None = None) -> list[tuple[str, float]]:
        """The `depth` articles closest to the query vector (cosine), best first, among those admitted."""
        scores = self.matrix @ query.astype(np.float32)
        if admits is None and depth < len(scores):  # the top only: a partial sort
            top = np.argpartition(-scores, depth)[:depth]
            rows = top[np.argsort(-scores[top], kind="stable")]
        else:
            rows = np.argsort(-scores, kind="stable")
        found: list[tuple[str, float]] = []
        for row in rows:
            if admits is None or admits(self.ids[row]):
                found.append((self.ids[row], float(scores[row])))
                if len(found) >= depth:
                    break
        return found


def semantic_enabled(config: Config) -> bool:
    """Whether builds store vectors and queries use them: "on" requires the model, "auto" uses it if present."""
    if config.semantic == "off":
        return False
    reason = model_missing(config.model_dir)
    if reason and config.semantic == "on":
        raise ArticleSearchError(f"semantic = on, but {reason}")
    return reason is None


class VectorWriter:
    """An engine writer that also keeps the generation's vectors in step with its articles."""

    def __init__(self, writer: EngineWriter, directory: Path, model_dir: Path, base: Vectors | None) -> None:
        self._writer, self._directory, self._model_dir = writer, directory, model_dir
        self._embedder: Embedder | None = None  # loaded at the first batch: after the parser processes fork
        self._base = base
        self._added: list[Article] = []
        self._removed_paths: set[str] = set()
        self._removed_ids: set[str] = set()
        self._ids: list[str] = []
        self._paths: list[str] = []
        self._rows: list[np.ndarray] = []

    def add(self, article: Article) -> None:
        self._writer.add(article)
        self._added.append(article)
        if len(self._added) >= EMBED_BATCH:
            self._embed_pending()

    def delete_path(self, path: str) -> None:
        self._writer.delete_path(path)
        self._removed_paths.add(path)

    def delete_ids(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        self._writer.delete_ids(ids)
        self._removed_ids.update(ids)

    def commit(self) -> None:
        self._writer.commit()
        self._embed_pending()
        fresh = set(self._ids)
        ids, paths, rows = list(self._ids), list(self._paths), list(self._rows)
        if self._base is not None:  # what the update kept: not removed, not added again
            keep = [i for i, (doc_id, path) in enumerate(zip(self._base.ids, self._base.paths))
                    if path not in self._removed_paths and doc_id not in fresh and doc_id not in self._removed_ids]
            ids = [self._base.ids[i] for i in keep] + ids
            paths = [self._base.paths[i] for i in keep] + paths
            rows = [self._base.matrix[keep]] + rows
        matrix = np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)
        Vectors(ids, paths, matrix).save(self._directory)

    def cancel(self) -> None:
        self._writer.cancel()

    def _embed_pending(self) -> None:
        if self._added:
            if self._embedder is None:
                self._embedder = Embedder(self._model_dir)
            self._rows.append(self._embedder.embed_articles(self._added))
            self._ids.extend(a.id for a in self._added)
            self._paths.extend(a.path for a in self._added)
            self._added = []


def with_vectors(writer: EngineWriter, directory: Path, config: Config, notes: list[str], update: bool) -> EngineWriter:
    """The engine writer, wrapped to keep article vectors when semantic ranking is enabled.

    An update keeps vectors only if the generation it starts from has them (a rebuild adds them);
    where it cannot keep them up to date it drops them, so no stale vector is ever used.
    """
    base = Vectors.load(directory) if update else None
    if not semantic_enabled(config):
        if base is not None:
            for name in (VECTORS, VECTOR_IDS):
                (directory / name).unlink(missing_ok=True)
            notes.append("semantic ranking is off here: dropped the article vectors (search-index rebuild adds them back)")
        return writer
    if update and base is None:
        notes.append("the serving index has no article vectors: semantic ranking starts with the next rebuild")
        return writer
    return VectorWriter(writer, directory, config.model_dir, base)
