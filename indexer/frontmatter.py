"""Front matter of Markdown posts: YAML between `---` lines (Jekyll, Eleventy, Hugo) or TOML between `+++`
lines (Hugo), split from the body and read safely.

YAML is read with the safe loader only (no Python objects), and dates stay text so that
`indexer.dates` reads every date form the same way. A front matter that the strict parser rejects
only for tabs (which the site generators still accept) is read again with the tabs as spaces before
the post is skipped.
"""
from __future__ import annotations

import re
import tomllib
from typing import Any

import yaml

from .errors import BadArticle

_YAML_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL | re.MULTILINE)
_YAML_EMPTY_RE = re.compile(r"\A---[ \t]*\r?\n()(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)")
_TOML_RE = re.compile(r"\A\+\+\+[ \t]*\r?\n(.*?)^\+\+\+[ \t]*(?:\r?\n|\Z)", re.DOTALL | re.MULTILINE)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (the C one when PyYAML has it), leaving dates as the text that was written."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """(front matter as a dict, the body after it); a text without front matter gives ({}, text)."""
    for pattern, read in ((_YAML_EMPTY_RE, _yaml), (_YAML_RE, _yaml), (_TOML_RE, _toml)):
        match = pattern.match(text)
        if match:
            return read(match.group(1)), text[match.end():]
    return {}, text


def _yaml(source: str) -> dict[str, Any]:
    try:
        data = yaml.load(source, Loader=_Loader)
    except yaml.YAMLError as exc:
        if "\t" not in source:
            raise BadArticle(f"invalid YAML front matter: {str(exc).splitlines()[0]}") from None
        try:  # tabs where YAML wants spaces: the generators accept it, so do we
            data = yaml.load(source.replace("\t", "  "), Loader=_Loader)
        except yaml.YAMLError:
            raise BadArticle(f"invalid YAML front matter: {str(exc).splitlines()[0]}") from None
    return _mapping(data, "YAML")


def _toml(source: str) -> dict[str, Any]:
    try:
        return _mapping(tomllib.loads(source), "TOML")
    except tomllib.TOMLDecodeError as exc:
        raise BadArticle(f"invalid TOML front matter: {exc}") from None


def _mapping(data: Any, kind: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadArticle(f"front matter is not a {kind} mapping")
    return {str(key).lower(): value for key, value in data.items()}
