"""The OpenSearch engine (package opensearch-py): every OpenSearch call of the project lives here.

A generation is still a local folder under INDEX_DIR (CURRENT names the serving one); it holds
`opensearch.json`, naming the cluster, the concrete index that holds the documents, and the alias
that always points at the serving concrete index (what other programs search).

Text fields hold the project's own analysed terms, space-joined and indexed with OpenSearch's
`whitespace` analyzer: stems, stop words and phrase positions are exactly those of the embedded
engines, and no analysis plugin is needed. The original article is kept, not indexed, in `_source`,
from which the project's own snippet code works, so the output matches the embedded engines.
"""
from __future__ import annotations

import json
import re
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Iterator, Mapping

from opensearchpy import OpenSearch, helpers
from opensearchpy import exceptions as os_errors

from ..query_tree import SEARCH_FIELDS, And, Node, Not, Or, Phrase, Term

from .. import analysis
from ..errors import ArticleSearchError, BuildFailed, EngineUnavailable, IndexDamaged, IndexMissing
from ..models import Article
from . import MAX_EXPANSIONS, Contribution, EngineHit, EnginePage, Filters, summed_contributions

PARTIAL_RETRIES = 5  # reads retried while some shards fail (a replica being promoted)

TARGET_FILE = "opensearch.json"
BULK_DOCS = 500  # documents per bulk request
BULK_BYTES = 10 * 1024 * 1024  # and at most this many bytes
BULK_RETRIES = 5  # a batch the cluster rejects (429: queue full) is retried with backoff
SUPPORTED_MAJORS = (1, 2, 3)
REQUEST_TIMEOUT = 30
HEALTH_SECONDS = 60
# opensearch-py reads a `timeout` query parameter as its own request timeout unless `request_timeout`
# is given too, so every call with a server-side `timeout` passes both.


@dataclass(frozen=True)
class Target:
    """Where one generation's documents live: cluster URL(s), concrete index, serving alias."""

    url: str
    index: str
    alias: str
    shards: int = 1
    replicas: int = 1

    @property
    def hosts(self) -> list[str]:
        return [u.strip() for u in self.url.split(",") if u.strip()]

    def save(self, directory: Path) -> None:
        (directory / TARGET_FILE).write_text(json.dumps(asdict(self), indent=2, sort_keys=True), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "Target":
        try:
            return cls(**json.loads((directory / TARGET_FILE).read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise IndexDamaged(f"{directory} has no {TARGET_FILE}; rebuild with: search-index build --engine opensearch") from None
        except (OSError, ValueError, TypeError) as exc:
            raise IndexDamaged(f"cannot read {directory / TARGET_FILE}: {exc}") from None


# -- errors ---------------------------------------------------------------------------------------

@contextmanager
def _errors(url: str, index: str | None = None) -> Iterator[None]:
    """OpenSearch client exceptions as the project's one-line errors."""
    try:
        yield
    except os_errors.ConnectionError as exc:  # includes timeouts
        raise EngineUnavailable(f"cannot reach OpenSearch at {url}: {_reason(exc)}") from None
    except os_errors.NotFoundError as exc:
        if "index_not_found" in str(exc.error) and index:
            raise IndexMissing(f"OpenSearch index {index!r} does not exist at {url}; build it with: search-index build --engine opensearch --url {url}") from None
        raise IndexDamaged(f"OpenSearch at {url}: {_reason(exc)}") from None
    except os_errors.TransportError as exc:
        raise EngineUnavailable(f"OpenSearch at {url} refused the request: {_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    """The most telling short text of a client exception."""
    info = getattr(exc, "info", None)
    if isinstance(info, dict):
        error = info.get("error")
        if isinstance(error, dict):
            return f"{error.get('type')}: {error.get('reason')}"
    if isinstance(exc, os_errors.ConnectionError) and exc.info is not None:
        return type(exc.info).__name__ if not str(exc.info) else str(exc.info).split(": ")[-1][:200]
    return str(exc)[:200]


_checked: set[str] = set()


def connect(url: str) -> OpenSearch:
    """A client for the cluster at `url`, whose version is checked once per process."""
    hosts = [u.strip() for u in url.split(",") if u.strip()]
    if not hosts:
        raise ArticleSearchError("no OpenSearch URL: pass --url or set $ARTICLE_SEARCH_OPENSEARCH_URL")
    client = OpenSearch(hosts=hosts, timeout=REQUEST_TIMEOUT, max_retries=len(hosts) + 1, retry_on_timeout=True,
                        retry_on_status=(502, 503, 504))
    if url not in _checked:
        with _errors(url):
            info = client.info()
        version = str(info.get("version", {}).get("number", "?"))
        distribution = info.get("version", {}).get("distribution", "elasticsearch")
        major = int(version.split(".")[0]) if version.split(".")[0].isdigit() else 0
        if distribution != "opensearch" or major not in SUPPORTED_MAJORS:
            raise EngineUnavailable(
                f"{url} runs {distribution} {version}; supported: OpenSearch {', '.join(f'{m}.x' for m in SUPPORTED_MAJORS)}"
            )
        _checked.add(url)
    return client


def _require_not_red(client: OpenSearch, url: str, index: str | None = None) -> None:
    with _errors(url, index):
        health = client.cluster.health(index=index, params={"timeout": "5s", "request_timeout": REQUEST_TIMEOUT})
    if health.get("status") == "red":
        what = f"index {index!r}" if index else "the cluster"
        raise EngineUnavailable(f"OpenSearch at {url}: {what} is red (primary shards unassigned); check the nodes")


# -- documents --------------------------------------------------------------------------------------

def mapping(shards: int) -> dict[str, Any]:
    """Index settings and mapping; replicas come after the bulk load (faster, same result)."""
    text = {"type": "text", "analyzer": "whitespace"}
    return {
        "settings": {"index": {"number_of_shards": shards, "number_of_replicas": 0, "refresh_interval": "-1"}},
        "mappings": {
            "dynamic": "strict",
            "_source": {"excludes": list(SEARCH_FIELDS)},  # the terms are only for searching
            "properties": {
                "article": {"type": "object", "enabled": False},
                **{name: text for name in SEARCH_FIELDS},
                "path": {"type": "keyword"},
                "date": {"type": "keyword"},
                "source": {"type": "keyword"},
                "categories": {"type": "keyword"},
            },
        },
    }


def _keywords(values: Any) -> list[str]:
    """Lower-case filter keys, split on commas like the whoosh KEYWORD fields."""
    return [part.strip().lower() for value in values for part in str(value).split(",") if part.strip()]


def to_document(article: Article) -> dict[str, Any]:
    stored = {f.name: getattr(article, f.name) for f in fields(Article)}  # not an AnalysedArticle's terms
    stored = {k: v for k, v in stored.items() if v not in (None, "", ())}
    document: dict[str, Any] = {
        "article": stored,
        "path": article.path,
        "source": _keywords([article.source] if article.source else []),
        "categories": _keywords(article.categories),
    }
    if article.date:
        document["date"] = article.date
    terms = analysis.article_terms(article)  # analysed already when parsed in parallel
    for name in SEARCH_FIELDS:
        document[name] = terms[name]
    return document


def from_source(source: Mapping[str, Any]) -> Article:
    stored = dict(source["article"])
    for name in ("bullets", "body", "captions", "categories"):
        stored[name] = tuple(stored.get(name) or ())
    return Article(**stored)


# -- writing ------------------------------------------------------------------------------------------

class OpenSearchWriter:
    """Sends articles in bulk batches; `fresh` writers own a new concrete index (dropped on cancel)."""

    def __init__(self, client: OpenSearch, target: Target, fresh: bool) -> None:
        self._client, self._target, self._fresh = client, target, fresh
        self._pending: list[dict[str, Any]] = []
        self._pending_bytes = 0

    def add(self, article: Article) -> None:
        document = to_document(article)
        self._pending.append({"_index": self._target.index, "_id": article.id, "_source": document})
        self._pending_bytes += sum(len(v) for v in document.values() if isinstance(v, str))
        if len(self._pending) >= BULK_DOCS or self._pending_bytes >= BULK_BYTES:
            self._flush()

    def delete_path(self, path: str) -> None:
        """Remove every article read from `path` (pending additions go first, keeping order).

        Found by a scroll and deleted in bulk by id: `_delete_by_query` lives in the reindex module,
        which minimal distributions lack.
        """
        self._flush()
        target = self._target
        with _errors(target.url, target.index):
            self._client.indices.refresh(index=target.index)
            found = helpers.scan(self._client, index=target.index, query={"query": {"term": {"path": path}}, "_source": False},
                                 size=1000, scroll="2m")
            ids = [hit["_id"] for hit in found]
        self._pending = [{"_op_type": "delete", "_index": target.index, "_id": i} for i in ids]
        self._flush()
        with _errors(target.url, target.index):
            self._client.indices.refresh(index=target.index)

    def _flush(self) -> None:
        if not self._pending:
            return
        actions, self._pending, self._pending_bytes = self._pending, [], 0
        failures = []
        with _errors(self._target.url, self._target.index):
            for ok, item in helpers.streaming_bulk(
                self._client, actions, chunk_size=BULK_DOCS, max_chunk_bytes=4 * BULK_BYTES,
                max_retries=BULK_RETRIES, initial_backoff=1, max_backoff=30,
                raise_on_error=False, yield_ok=False,
            ):
                op, result = next(iter(item.items()))
                if not (op == "delete" and result.get("status") == 404):  # already gone: fine
                    failures.append(item)
        if failures:
            first = next(iter(failures[0].values()))
            raise BuildFailed(f"OpenSearch rejected {len(failures)} articles, e.g. {first.get('_id')}: {first.get('error')}")

    def commit(self) -> None:
        """Send the rest, add the replicas, make everything searchable, wait for the copies."""
        self._flush()
        target = self._target
        with _errors(target.url, target.index):
            if self._fresh:
                self._client.indices.put_settings(index=target.index, body={"index": {
                    "number_of_replicas": target.replicas, "refresh_interval": "1s"}})
            self._client.indices.refresh(index=target.index)
            if self._fresh:
                self._client.indices.forcemerge(index=target.index, params={"max_num_segments": 1, "request_timeout": 600})
                # Every copy placed (green) is only possible with more data nodes than replicas.
                nodes = self._client.cluster.health()["number_of_data_nodes"]
                health = self._client.cluster.health(index=target.index, params={
                    "wait_for_status": "green" if nodes > target.replicas else "yellow",
                    "timeout": f"{HEALTH_SECONDS}s", "request_timeout": HEALTH_SECONDS + REQUEST_TIMEOUT})
                if health.get("status") == "red":
                    raise EngineUnavailable(f"OpenSearch at {target.url}: the new index {target.index!r} is red")

    def cancel(self) -> None:
        self._pending = []
        if self._fresh:
            _delete_index(self._client, self._target)


def _delete_index(client: OpenSearch, target: Target) -> None:
    with _errors(target.url):
        client.indices.delete(index=target.index, params={"ignore_unavailable": "true"})


# -- searching ---------------------------------------------------------------------------------------

def _boosted(fields: list[str], weights: Mapping[str, float]) -> list[str]:
    return [f"{f}^{weights.get(f, 1.0) or 1.0:g}" for f in fields]


def translate(node: Node, weights: Mapping[str, float]) -> dict[str, Any]:
    """The query tree as OpenSearch query DSL; a field-less leaf searches every weighted field.

    Scores of the fields add up (most_fields, tie_breaker 1), as whoosh's OR over fields does.
    """
    if isinstance(node, And):
        return {"bool": {"must": [translate(i, weights) for i in node.items if not isinstance(i, Not)],
                         "must_not": [translate(i.item, weights) for i in node.items if isinstance(i, Not)]}}
    if isinstance(node, Or):
        return {"bool": {"should": [translate(i, weights) for i in node.items], "minimum_should_match": 1}}
    if isinstance(node, Not):
        return {"bool": {"must_not": [translate(node.item, weights)]}}
    fields = [node.field] if node.field else [f for f in SEARCH_FIELDS if weights.get(f, 0) > 0]
    if isinstance(node, Phrase):
        return {"multi_match": {"query": " ".join(node.terms), "type": "phrase", "tie_breaker": 1.0,
                                "fields": _boosted(fields, weights), "slop": node.slop, "boost": node.boost}}
    if node.prefix:
        return {"bool": {"should": [
            {"prefix": {f: {"value": node.term, "boost": (weights.get(f, 1.0) or 1.0) * node.boost}}} for f in fields
        ], "minimum_should_match": 1}}
    query: dict[str, Any] = {"query": node.term, "type": "most_fields", "fields": _boosted(fields, weights),
                             "boost": node.boost}
    if node.fuzzy:
        query.update(fuzziness=node.fuzzy, prefix_length=1, max_expansions=MAX_EXPANSIONS, fuzzy_transpositions=False)
    return {"multi_match": query}


def _filter_clauses(filters: Filters) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(filter, must_not) clauses; dates compare as strings, inclusive, like the whoosh engine."""
    allow: list[dict[str, Any]] = []
    if filters.since or filters.until:
        bounds = {}
        if filters.since:
            bounds["gte"] = filters.since
        if filters.until:
            bounds["lte"] = filters.until + "\uffff"
        allow.append({"range": {"date": bounds}})
    if filters.source:
        allow.append({"term": {"source": filters.source.lower()}})
    if filters.category:
        allow.append({"term": {"categories": filters.category.lower()}})
    deny = [{"ids": {"values": list(filters.exclude_ids)}}] if filters.exclude_ids else []
    return allow, deny


# Lucene's explanation names each scored part: "weight(body:bellami in 260) [PerFieldSimilarity] ..."
# for a term or "phrase", "headline:bellam*^3.0" for a (constant-score) prefix.
_WEIGHT_RE = re.compile(r"weight\((\w+):(.+) in \d+\)")
_CONSTANT_RE = re.compile(r"(\w+):(\S+?)(?:\^[\d.]+)?")


def _contributions(explanation: Mapping[str, Any]) -> tuple[Contribution, ...]:
    """Per field and term, what it added to the score: the scored parts of Lucene's explanation tree
    (the boolean nodes above them add up their matching clauses; filters score 0)."""
    def parts(node: Mapping[str, Any]) -> Iterator[tuple[str, str, float]]:
        value = float(node.get("value") or 0.0)
        if value <= 0:
            return
        description = str(node.get("description", ""))
        part = _WEIGHT_RE.match(description) or _CONSTANT_RE.fullmatch(description)
        if part and part.group(1) in SEARCH_FIELDS:
            yield part.group(1), part.group(2), value
            return
        for child in node.get("details", ()):
            yield from parts(child)

    return summed_contributions(parts(explanation))


class OpenSearchIndex:
    """One generation's concrete index. If a later rebuild has already deleted it, searches go to
    the alias (the serving index) until the caller reopens the new generation."""

    def __init__(self, client: OpenSearch, target: Target) -> None:
        self._client, self._target = client, target
        with _errors(target.url, target.index):
            if not client.indices.exists(index=target.index):
                raise IndexMissing(f"OpenSearch index {target.index!r} does not exist at {target.url}; "
                                   f"rebuild with: search-index build --engine opensearch --url {target.url}")
        _require_not_red(client, target.url, target.index)
        self._name = target.index

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        """A complete read: retried while shards fail (a node just died and its replicas are taking
        over), so a search never returns partial results as if they were whole."""
        for attempt in range(PARTIAL_RETRIES):
            response = self._call_once(method, **kwargs)
            failed = int(response.get("_shards", {}).get("failed", 0) or 0)
            if not failed:
                return response
            time.sleep(0.2 * (attempt + 1))
        total = response.get("_shards", {}).get("total", "?")
        raise EngineUnavailable(f"OpenSearch at {self._target.url}: {failed} of {total} shards failed to answer; check the nodes")

    def _call_once(self, method: str, **kwargs: Any) -> dict[str, Any]:
        """A read on the concrete index, falling back once to the alias if the index is gone."""
        try:
            with _errors(self._target.url, self._name):
                return getattr(self._client, method)(index=self._name, **kwargs)
        except IndexMissing:
            if self._name == self._target.alias:
                raise
            self._name = self._target.alias
            with _errors(self._target.url, self._name):
                return getattr(self._client, method)(index=self._name, **kwargs)

    def doc_count(self) -> int:
        return int(self._call("count")["count"])

    def doc_frequency(self, term: str) -> int:
        """Documents holding the term in the searchable field that has it most often (as whoosh counts)."""
        body = {"size": 0, "aggs": {"df": {"filters": {"filters": {f: {"term": {f: term}} for f in SEARCH_FIELDS}}}}}
        buckets = self._call("search", body=body)["aggregations"]["df"]["buckets"]
        return max(int(b["doc_count"]) for b in buckets.values())

    def similar_terms(self, term: str, max_edits: int) -> list[tuple[str, int]]:
        """Index terms within `max_edits` edits of `term` (first letter kept), for did-you-mean.

        The term suggester walks the field's term dictionary on the cluster; like the whoosh engine,
        the body is asked first and the other fields only if it has no close term.
        """
        edits = max(1, min(max_edits, 2))
        for field in ("body", *(f for f in SEARCH_FIELDS if f != "body")):
            body = {"size": 0, "suggest": {"near": {"text": term, "term": {
                "field": field, "suggest_mode": "always", "max_edits": edits, "prefix_length": 1,
                "min_word_length": 1, "size": 20, "string_distance": "levenshtein"}}}}
            entries = self._call("search", body=body).get("suggest", {}).get("near", [])
            found = sorted({o["text"] for e in entries for o in e.get("options", []) if o["text"] != term})
            if found:
                return [(t, self.doc_frequency(t)) for t in found]
        return []

    def article(self, article_id: str) -> Article | None:
        """One stored article by id (for --like)."""
        body = {"query": {"ids": {"values": [article_id]}}, "size": 1, "_source": ["article"]}
        hits = self._call("search", body=body)["hits"]["hits"]
        return from_source(hits[0]["_source"]) if hits else None

    def search(self, root: Node, weights: Mapping[str, float], limit: int, filters: Filters | None = None,
               sort_by_date: bool = False, explain: bool = False) -> EnginePage:
        allow, deny = _filter_clauses(filters) if filters else ([], [])
        body: dict[str, Any] = {
            "query": {"bool": {"must": [translate(root, weights)], "filter": allow, "must_not": deny}},
            "size": limit, "track_total_hits": True, "track_scores": True, "_source": ["article"], "explain": explain,
        }
        if sort_by_date:
            body["sort"] = [{"date": {"order": "desc", "missing": "_last"}}, "_score"]
        result = self._call("search", body=body)
        hits = tuple(
            EngineHit(from_source(h["_source"]), float(h.get("_score") or 0.0),
                      _contributions(h["_explanation"]) if explain else ())
            for h in result["hits"]["hits"]
        )
        return EnginePage(int(result["hits"]["total"]["value"]), hits)

    def close(self) -> None:
        self._client.close()


# -- the engine ---------------------------------------------------------------------------------------

class OpenSearchEngine:
    """Writes and opens generations whose documents live in an OpenSearch cluster."""

    name = "opensearch"

    def __init__(self, url: str | None = None, alias: str = "articles", shards: int = 1, replicas: int = 1) -> None:
        self.url, self.alias, self.shards, self.replicas = url, alias, shards, replicas

    def _client_for(self, target: Target) -> OpenSearch:
        return connect(self.url or target.url)

    def create(self, directory: Path) -> OpenSearchWriter:
        """A new concrete index named after the generation; the alias does not move yet."""
        if not self.url:
            raise ArticleSearchError("the opensearch engine needs a cluster: pass --url URL or set $ARTICLE_SEARCH_OPENSEARCH_URL")
        if self.shards < 1 or self.replicas < 0:
            raise ArticleSearchError("OpenSearch shards must be at least 1 and replicas at least 0")
        target = Target(self.url, f"{self.alias}-{directory.name}".lower(), self.alias, self.shards, self.replicas)
        client = connect(self.url)
        _require_not_red(client, self.url)
        with _errors(self.url):
            client.indices.create(index=target.index, body=mapping(self.shards))
        target.save(directory)
        return OpenSearchWriter(client, target, fresh=True)

    def update(self, directory: Path) -> OpenSearchWriter:
        """Changes applied in place to the generation's index (not transactional: see deploy/OPENSEARCH.md)."""
        target = Target.load(directory)
        client = self._client_for(target)
        OpenSearchIndex(client, target)  # exists and not red
        return OpenSearchWriter(client, target, fresh=False)

    def open(self, directory: Path) -> OpenSearchIndex:
        target = Target.load(directory)
        return OpenSearchIndex(self._client_for(target), target)

    def describe(self, directory: Path) -> dict[str, Any]:
        target = Target.load(directory)
        return {"url": target.url, "opensearch_index": target.index, "opensearch_alias": target.alias,
                "shards": target.shards, "replicas": target.replicas}

    def publish(self, directory: Path) -> None:
        """Point the alias at this generation's index, in one atomic `_aliases` call."""
        target = Target.load(directory)
        client = self._client_for(target)
        with _errors(target.url, target.index):
            current = list(client.indices.get_alias(name=target.alias, params={"ignore_unavailable": "true"})) \
                if client.indices.exists_alias(name=target.alias) else []
            actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": target.alias}} for i in current if i != target.index]
            actions.append({"add": {"index": target.index, "alias": target.alias}})
            client.indices.update_aliases(body={"actions": actions})

    def discard(self, directory: Path) -> None:
        """Delete the concrete index of a generation that will not serve."""
        try:
            target = Target.load(directory)
        except IndexDamaged:
            return  # nothing was created
        _delete_index(self._client_for(target), target)

    def prune(self, keep: int) -> list[str]:
        """Delete this alias's concrete indices beyond the `keep` newest; never the serving one."""
        if not self.url:
            raise ArticleSearchError("pass --url URL or set $ARTICLE_SEARCH_OPENSEARCH_URL")
        client = connect(self.url)
        with _errors(self.url):
            rows = client.cat.indices(index=f"{self.alias}-gen-*", params={"format": "json", "h": "index,creation.date"})
            serving = set(client.indices.get_alias(name=self.alias)) if client.indices.exists_alias(name=self.alias) else set()
        newest_first = sorted(rows, key=lambda r: (int(r["creation.date"]), r["index"]), reverse=True)
        kept = [r["index"] for r in newest_first if r["index"] in serving]
        for row in newest_first:
            if len(kept) >= max(keep, len(serving)):
                break
            if row["index"] not in kept:
                kept.append(row["index"])
        doomed = [r["index"] for r in newest_first if r["index"] not in kept]
        with _errors(self.url):
            for name in doomed:
                client.indices.delete(index=name, params={"ignore_unavailable": "true"})
        return doomed


def engine_for(config: Any) -> OpenSearchEngine:
    return OpenSearchEngine(config.opensearch_url, config.opensearch_alias, config.opensearch_shards, config.opensearch_replicas)


ENGINE = OpenSearchEngine()
