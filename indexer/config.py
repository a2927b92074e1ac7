"""One configuration object, filled once from defaults, `search.toml`, the environment and CLI options.

Deep code never reads the environment: it receives a `Config`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, NamedTuple

from .embeddings import default_model_dir
from .errors import ArticleSearchError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def bundled_corpus() -> Path:
    """The sample corpus shipped with the tool.

    The project keeps it in corpus/ at its top; pyproject.toml installs that folder as package data
    at indexer/bundled_corpus, so an installed tool (pip install ., pipx) finds it beside this module
    and a checkout finds the original.
    """
    installed = Path(__file__).resolve().parent / "bundled_corpus"
    return installed if installed.is_dir() else PROJECT_ROOT / "corpus"


BUNDLED_CORPUS = bundled_corpus()

SEMANTIC_MODES = ("auto", "on", "off")
DEFAULT_WEIGHTS: Mapping[str, float] = {"headline": 3.0, "bullets": 2.0, "body": 1.0, "captions": 0.5, "authors": 0.5}


def default_index_dir(env: Mapping[str, str]) -> Path:
    """`$ARTICLE_SEARCH_INDEX`, else the XDG data dir."""
    if env.get("ARTICLE_SEARCH_INDEX"):
        return Path(env["ARTICLE_SEARCH_INDEX"]).expanduser()
    return xdg_index_dir(env)


def xdg_index_dir(env: Mapping[str, str]) -> Path:
    """The index folder when none is named: article-search/index in the XDG data dir."""
    data_home = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / "article-search" / "index"


def builds_on_first_use(config: "Config", env: Mapping[str, str] | None = None) -> bool:
    """Whether a missing index may be built from the configured corpus on first search.

    Only the default index is: an index named by --index, $ARTICLE_SEARCH_INDEX or search.toml
    that does not exist is a mistake to report, not a folder to fill silently from the bundled
    corpus. And only when every corpus folder exists; otherwise the search says what to build.
    """
    env = os.environ if env is None else env
    return config.index_dir == xdg_index_dir(env) and all(folder.is_dir() for folder in config.corpus_dirs)


def default_corpus_dirs(env: Mapping[str, str]) -> tuple[Path, ...]:
    """`$ARTICLE_SEARCH_CORPUS` (os.pathsep-separated), else the project's bundled `corpus/`."""
    if env.get("ARTICLE_SEARCH_CORPUS"):
        return tuple(Path(p).expanduser() for p in env["ARTICLE_SEARCH_CORPUS"].split(os.pathsep) if p)
    return (BUNDLED_CORPUS,)


@dataclass(frozen=True)
class Config:
    """Every tunable of the tool in one place; see README 'Configuration'."""

    index_dir: Path = field(default_factory=lambda: default_index_dir(os.environ))
    corpus_dirs: tuple[Path, ...] = field(default_factory=lambda: default_corpus_dirs(os.environ))
    engine: str = "whoosh"
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    limit: int = 10
    snippets: int = 3
    context: int = 1
    max_article_bytes: int = 10 * 1024 * 1024
    follow_symlinks: bool = False
    # OpenSearch engine: cluster URL(s), comma-separated; the alias searches go through; index layout.
    opensearch_url: str | None = None
    opensearch_alias: str = "articles"
    opensearch_shards: int = 1
    opensearch_replicas: int = 1
    # Semantic ranking (indexer/embeddings.py): "auto" uses it when the model is installed, "on"
    # requires it, "off" never; builds then store a vector per article, queries fuse the rankings.
    semantic: str = "auto"
    model_dir: Path = field(default_factory=lambda: default_model_dir(os.environ))

    def with_(self, **changes: Any) -> "Config":
        """A copy with the non-None changes applied (CLI options that were not given stay unset)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def parse_weights(text: str) -> dict[str, float]:
    """Parse `headline=3,bullets=2` into a weights mapping."""
    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in DEFAULT_WEIGHTS:
            raise ArticleSearchError(f"bad weight {part!r}: expected FIELD=NUMBER with FIELD one of {', '.join(DEFAULT_WEIGHTS)}")
        try:
            weights[name] = float(value)
        except ValueError:
            raise ArticleSearchError(f"bad weight {part!r}: {value!r} is not a number") from None
    return weights


def load_config(env: Mapping[str, str] | None = None, config_file: Path | None = None) -> Config:
    """Defaults, then `search.toml` (`$ARTICLE_SEARCH_CONFIG` or ./search.toml), then environment."""
    env = os.environ if env is None else env
    path = config_file or Path(env.get("ARTICLE_SEARCH_CONFIG", "search.toml"))
    values: dict[str, Any] = {}
    if path.is_file():
        import tomllib  # only when there is a config file: keeps `search` start-up short

        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ArticleSearchError(f"cannot read config {path}: {exc}") from None
        values = _values_from_toml(data, path)
    weights = dict(values.pop("weights", DEFAULT_WEIGHTS))
    if env.get("ARTICLE_SEARCH_WEIGHTS"):
        weights.update(parse_weights(env["ARTICLE_SEARCH_WEIGHTS"]))
    if env.get("ARTICLE_SEARCH_INDEX") or "index_dir" not in values:
        values["index_dir"] = default_index_dir(env)
    if env.get("ARTICLE_SEARCH_CORPUS") or "corpus_dirs" not in values:
        values["corpus_dirs"] = default_corpus_dirs(env)
    if env.get("ARTICLE_SEARCH_ENGINE"):
        values["engine"] = env["ARTICLE_SEARCH_ENGINE"]
    if env.get("ARTICLE_SEARCH_OPENSEARCH_URL"):
        values["opensearch_url"] = env["ARTICLE_SEARCH_OPENSEARCH_URL"]
    if env.get("ARTICLE_SEARCH_SEMANTIC"):
        values["semantic"] = env["ARTICLE_SEARCH_SEMANTIC"]
    if env.get("ARTICLE_SEARCH_MODEL_DIR") or "model_dir" not in values:
        values["model_dir"] = default_model_dir(env)
    if values.get("semantic", "auto") not in SEMANTIC_MODES:
        raise ArticleSearchError(f"semantic must be one of {', '.join(SEMANTIC_MODES)}, not {values['semantic']!r}")
    return Config(weights=weights, **values)


class _Setting(NamedTuple):
    """A search.toml key: the Config field it sets, its TOML type and, for numbers, the allowed range
    (a named tuple: a frozen dataclass costs every `search` a millisecond to create)."""

    name: str
    kind: type
    low: int | None = None
    high: int | None = None


MAX_LIMIT = 10_000
_TOML_KEYS = {
    "index": _Setting("index_dir", Path),
    "engine": _Setting("engine", str),
    "limit": _Setting("limit", int, 1, MAX_LIMIT),
    "snippets": _Setting("snippets", int, 0, 100),
    "context": _Setting("context", int, 0, 20),
    "max_article_bytes": _Setting("max_article_bytes", int, 1),
    "follow_symlinks": _Setting("follow_symlinks", bool),
    "opensearch_url": _Setting("opensearch_url", str),
    "opensearch_alias": _Setting("opensearch_alias", str),
    "opensearch_shards": _Setting("opensearch_shards", int, 1, 1024),
    "opensearch_replicas": _Setting("opensearch_replicas", int, 0, 16),
    "semantic": _Setting("semantic", str),
    "model_dir": _Setting("model_dir", Path),
}
_KIND_NAMES = {bool: "true or false", int: "a whole number", str: "a string", Path: "a path (a string)"}


def _values_from_toml(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """The file's settings, each checked for type and range: `follow_symlinks = "false"` or
    `limit = "ten"` is an error naming the file and key, never a silent truth value or a traceback."""
    values: dict[str, Any] = {}
    for key, raw in data.items():
        if key == "weights":
            if not isinstance(raw, dict):
                raise ArticleSearchError(f"{path}: [weights] must be a table")
            for name, weight in raw.items():
                if isinstance(weight, bool) or not isinstance(weight, (int, float)):
                    raise ArticleSearchError(f"{path}: weights.{name} must be a number, not {_shown(weight)}")
            values["weights"] = {**DEFAULT_WEIGHTS, **parse_weights(",".join(f"{k}={v}" for k, v in raw.items()))}
        elif key == "corpus":
            items = raw if isinstance(raw, list) else [raw]
            if not items or not all(isinstance(item, str) for item in items):
                raise ArticleSearchError(f"{path}: corpus must be a folder or a list of folders, not {_shown(raw)}")
            values["corpus_dirs"] = tuple(Path(item).expanduser() for item in items)
        elif key in _TOML_KEYS:
            setting = _TOML_KEYS[key]
            values[setting.name] = _checked(key, raw, setting, path)
        else:
            raise ArticleSearchError(f"{path}: unknown setting {key!r}")
    return values


def _checked(key: str, raw: Any, setting: _Setting, path: Path) -> Any:
    """`raw` as the setting's type, or an error saying what was expected."""
    kind = setting.kind
    if kind is bool or kind is int:  # TOML already typed it: no conversion (bool("false") is True)
        fits = isinstance(raw, kind) and (kind is bool or not isinstance(raw, bool))
    else:
        fits = isinstance(raw, str)
    if not fits:
        raise ArticleSearchError(f"{path}: {key} must be {_KIND_NAMES[kind]}, not {_shown(raw)}")
    if kind is int and ((setting.low is not None and raw < setting.low) or (setting.high is not None and raw > setting.high)):
        bounds = f"between {setting.low:,} and {setting.high:,}" if setting.high is not None else f"at least {setting.low:,}"
        raise ArticleSearchError(f"{path}: {key} must be {bounds}, not {raw:,}")
    return Path(raw).expanduser() if kind is Path else raw


def _shown(raw: Any) -> str:
    """A value as it was written in TOML."""
    if isinstance(raw, bool):
        return str(raw).lower()
    return f'"{raw}"' if isinstance(raw, str) else repr(raw)
