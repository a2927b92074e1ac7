"""The OpenSearch engine (package opensearch-py): every OpenSearch call of the project lives here.

A generation is still a local folder under INDEX_DIR (CURRENT names the serving one); it holds
`opensearch.json`, naming the cluster, the concrete index that holds the documents, and the alias
that always points at the serving concrete index (what other programs search).

Text fields hold the project's own analysed terms, space-joined and indexed with OpenSearch's
`whitespace` analyzer: stems, stop words and phrase positions are exactly those of the embedded
engines, and no analysis plugin is needed. The original article is kept, not indexed, in `_source`,
from which the project's own snippet code works, so the output matches the embedded engines.

Each document also lists its distinct terms per field as keywords (`vocabulary`, doc values only):
a terms aggregation over them is the engine's term list, with exact article counts, from which
prefix and fuzzy words are expanded (`indexer.expansion`) and did-you-mean finds candidates.

A read retries while the cluster cannot answer whole (a node just died and its replicas are being
promoted): connection errors, 503 "all shards failed", failed shards; for up to RETRY_SECONDS with
growing pauses, then one EngineUnavailable line.
"""
from __future__ import annotations

import json
import re
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from itertools import count
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from opensearchpy import OpenSearch, helpers
from opensearchpy import exceptions as os_errors

from ..query_tree import SEARCH_FIELDS, And, Node, Not, Or, Phrase, Term, positive_leaves

from .. import analysis
from ..config import DEFAULT_WEIGHTS
from ..errors import ArticleSearchError, BuildFailed, EngineUnavailable, IndexDamaged, IndexMissing
from ..models import Article
from ..expansion import expand
from . import (TIE_MARGIN, Contribution, Engine, EngineHit, EngineIndex, EnginePage, Facets, Filters, bm25f,
               in_stable_order, keywords, summed_contributions, top_values, year_of)
from .bm25f import SECTIONS, field_lengths, folded_text, folded_weights, folds

RETRY_SECONDS = 10.0  # a read waits at most this long for the cluster to answer whole again
RETRY_PAUSES = (0.1, 0.2, 0.5, 1.0, 2.0)  # between tries, the last one repeated
TRANSIENT_STATUS = (429, 502, 503, 504)
VOCABULARY = "vocabulary"  # per field, each document's distinct terms as keywords
LENGTHS = "lengths"  # each field's length in analysed terms (exact BM25F: OpenSearchIndex.field_averages)
FOLDED_META = "folded_weights"  # in the mapping's _meta: the field weights folded into SECTIONS
MAX_TERM_BYTES = 255  # the whitespace analyzer cuts longer tokens: longer terms are not searchable anyway
MAX_LISTED_TERMS = 65_535  # terms listed per field and prefix (the cluster's default search.max_buckets)
MAX_RESULT_WINDOW = 10_000  # hits one search may return (the cluster's default index.max_result_window)

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


def _transient(exc: os_errors.TransportError) -> bool:
    """An error a moment may cure: a node unreachable or just lost, shards not yet taken over, a full queue."""
    if isinstance(exc, os_errors.ConnectionError):
        return True
    return exc.status_code in TRANSIENT_STATUS or "all shards failed" in str(exc) or "no_shard_available" in str(exc)


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

def mapping(shards: int, folded: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Index settings and mapping; replicas come after the bulk load (faster, same result). `folded`:
    the field weights folded into SECTIONS (BM25F, see indexer.engines.bm25f), recorded in `_meta`."""
    text = {"type": "text", "analyzer": "whitespace"}
    return {
        "settings": {"index": {"number_of_shards": shards, "number_of_replicas": 0, "refresh_interval": "-1"}},
        "mappings": {
            "dynamic": "strict",
            "_meta": {FOLDED_META: dict(folded)} if folded else {},
            "_source": {"excludes": [*SEARCH_FIELDS, SECTIONS, VOCABULARY]},  # the terms are only for searching
            "properties": {
                "article": {"type": "object", "enabled": False},
                **{name: text for name in SEARCH_FIELDS},
                **({SECTIONS: {**text, "index_options": "freqs"},
                    LENGTHS: {"properties": {name: {"type": "integer", "index": False} for name in SEARCH_FIELDS}}} if folded else {}),
                VOCABULARY: {"properties": {name: {"type": "keyword", "index": False, "ignore_above": MAX_TERM_BYTES}
                                            for name in SEARCH_FIELDS}},
                "path": {"type": "keyword"},
                "date": {"type": "keyword"},
                "source": {"type": "keyword"},
                "categories": {"type": "keyword"},
                "author": {"type": "keyword"},
            },
        },
    }


def held_fields(mapped: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """The searchable fields that every one of these mappings' properties holds: an index built before
    authors were stored maps neither their words nor their keywords."""
    properties = list(mapped)
    return tuple(f for f in SEARCH_FIELDS if all(f in p and (f != "authors" or "author" in p) for p in properties))


def to_document(article: Article, folded: Mapping[str, int] | None = None, held: tuple[str, ...] = SEARCH_FIELDS,
                lengths: bool = False) -> dict[str, Any]:
    """The article as an OpenSearch document; SECTIONS only for an index that folds weights in, the authors'
    fields only for one that maps them (`held`: not one built before authors were stored), the field
    lengths only for one that maps them (`lengths`)."""
    stored = {f.name: getattr(article, f.name) for f in fields(Article)}  # not an AnalysedArticle's terms
    stored = {k: v for k, v in stored.items() if v not in (None, "", ()) and (k != "authors" or k in held)}
    document: dict[str, Any] = {
        "article": stored,
        "path": article.path,
        "source": keywords([article.source]),
        "categories": keywords(article.categories),
    }
    if "authors" in held:
        document["author"] = keywords(article.authors)
    if article.date:
        document["date"] = article.date
    terms = analysis.article_terms(article)  # analysed already when parsed in parallel
    for name in held:
        document[name] = terms[name]
    if folded:
        document[SECTIONS] = folded_text(terms, folded)
    if lengths:
        document[LENGTHS] = field_lengths({name: terms[name] for name in held})
    document[VOCABULARY] = {name: sorted(set(terms[name].split())) for name in held}
    return document


def from_source(source: Mapping[str, Any]) -> Article:
    stored = dict(source["article"])
    for name in ("bullets", "body", "captions", "categories", "authors"):
        stored[name] = tuple(stored.get(name) or ())
    return Article(**stored)


# -- writing ------------------------------------------------------------------------------------------

class OpenSearchWriter:
    """Sends articles in bulk batches; `fresh` writers own a new concrete index (dropped on cancel)."""

    def __init__(self, client: OpenSearch, target: Target, fresh: bool, folded: Mapping[str, int] | None = None,
                 held: tuple[str, ...] = SEARCH_FIELDS, lengths: bool = False) -> None:
        self._client, self._target, self._fresh, self._folded, self._held = client, target, fresh, folded, held
        self._lengths = lengths
        self._pending: list[dict[str, Any]] = []
        self._pending_bytes = 0

    def add(self, article: Article) -> None:
        document = to_document(article, self._folded, self._held, self._lengths)
        self._pending.append({"_index": self._target.index, "_id": article.id, "_source": document})
        self._pending_bytes += sum(len(v) for v in document.values() if isinstance(v, str))
        if len(self._pending) >= BULK_DOCS or self._pending_bytes >= BULK_BYTES:
            self._flush()

    def delete_ids(self, ids: Iterable[str]) -> None:
        """Remove these articles, in the same bulk requests as the additions (in order)."""
        for article_id in ids:
            self._pending.append({"_op_type": "delete", "_index": self._target.index, "_id": article_id})
            if len(self._pending) >= BULK_DOCS:
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
    if node.expanding:  # the terms `indexer.expansion` chose, each field scoring one constant part
        expanded = list(node.index_terms())
        if not expanded:
            return {"match_none": {}}
        return {"bool": {"should": [
            {"terms": {f: expanded, "boost": (weights.get(f, 1.0) or 1.0) * node.boost}} for f in fields
        ], "minimum_should_match": 1}}
    query: dict[str, Any] = {"query": node.term, "type": "most_fields", "fields": _boosted(fields, weights),
                             "boost": node.boost}
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
        allow.append({"term": {"source": filters.source}})  # keywords already (see Filters)
    if filters.category:
        allow.append({"term": {"categories": filters.category}})
    if filters.author:
        allow.append({"term": {"author": filters.author}})
    deny = [{"ids": {"values": list(filters.exclude_ids)}}] if filters.exclude_ids else []
    return allow, deny


def _query(root: Node, weights: Mapping[str, float], filters: Filters | None, folded: Mapping[str, int] | None = None
           ) -> dict[str, Any]:
    """The text query scoring, the filters only restricting. With `folded` weights equal to the
    search's, the tree only restricts too, and the query's distinct words score in SECTIONS (BM25F)."""
    allow, deny = _filter_clauses(filters) if filters else ([], [])
    if folds(folded, weights):
        scoring = [{"term": {field: {"value": term, "boost": weight}}} for field, _, term, weight in bm25f.weighted_terms(root, weights)]
        return {"bool": {"filter": [translate(root, weights), *allow], "should": scoring, "must_not": deny}}
    return {"bool": {"must": [translate(root, weights)], "filter": allow, "must_not": deny}}


FACET_FIELDS = {"category": "categories", "source": "source", "author": "author"}
MAX_FACET_YEARS = 500  # years counted, the latest: one prefix filter each


# Lucene's explanation names each scored part: "weight(body:bellami in 260) [PerFieldSimilarity] ..."
# for a term or "phrase", "headline:(bellami bellamy)^3.0" for the (constant-score) terms of a prefix
# or fuzzy word, named in --explain by the word as the query tree labels it (bellam*).
_WEIGHT_RE = re.compile(r"weight\((\w+):(.+) in \d+\)")
_TERMS_RE = re.compile(r"(\w+):\((.*)\)(?:\^[\d.]+)?")


def _contributions(explanation: Mapping[str, Any], labels: Mapping[frozenset[str], str], article: Article,
                   folded: Mapping[str, int] | None) -> tuple[Contribution, ...]:
    """Per field and term, what it added to the score: the scored parts of Lucene's explanation tree
    (the boolean nodes above them add up their matching clauses; filters score 0). `labels` names
    the expanded words by their terms; a part scored in SECTIONS is split over the article's fields."""
    scored = (*SEARCH_FIELDS, SECTIONS)

    def parts(node: Mapping[str, Any]) -> Iterator[tuple[str, str, str, float]]:
        value = float(node.get("value") or 0.0)
        if value <= 0:
            return
        description = str(node.get("description", ""))
        if (part := _WEIGHT_RE.match(description)) and part.group(1) in scored:
            yield part.group(1), labels.get(frozenset((part.group(2),)), part.group(2)), part.group(2), value
            return
        if (part := _TERMS_RE.fullmatch(description)) and part.group(1) in scored:
            yield part.group(1), labels.get(frozenset(part.group(2).split()), part.group(2)), part.group(2), value
            return
        for child in node.get("details", ()):
            yield from parts(child)

    sections = analysis.article_terms(article) if folded else {}
    return summed_contributions(bm25f.split_sections(parts(explanation), sections, folded or {}))


class OpenSearchIndex(EngineIndex):
    """One generation's concrete index. If a later rebuild has already deleted it, searches go to
    the alias (the serving index) until the caller reopens the new generation."""

    capabilities = frozenset({"explain", "similar_terms", "article", "concurrent", "facets"})

    def __init__(self, client: OpenSearch, target: Target) -> None:
        self._client, self._target = client, target
        with _errors(target.url, target.index):
            if not client.indices.exists(index=target.index):
                raise IndexMissing(f"OpenSearch index {target.index!r} does not exist at {target.url}; "
                                   f"rebuild with: search-index build --engine opensearch --url {target.url}")
            mappings = client.indices.get_mapping(index=target.index)
        _require_not_red(client, target.url, target.index)
        if not all(VOCABULARY in m.get("mappings", {}).get("properties", {}) for m in mappings.values()):
            raise IndexDamaged(f"OpenSearch index {target.index!r} was built by an older version, without the term "
                               f"lists prefix and fuzzy words need; rebuild with: search-index rebuild --engine opensearch")
        self._name = target.index
        recorded = [m.get("mappings", {}).get("_meta", {}).get(FOLDED_META) for m in mappings.values()]
        #: the weights folded into SECTIONS, None for an index built before it (it adds up fields' scores)
        self.folded: dict[str, int] | None = recorded[0] if recorded and recorded[0] and all(r == recorded[0] for r in recorded) else None
        self.searchable = held_fields(m.get("mappings", {}).get("properties", {}) for m in mappings.values())
        #: whether the articles carry their field lengths (not an index built before they were)
        self.records_lengths = bool(mappings) and all(LENGTHS in m.get("mappings", {}).get("properties", {}) for m in mappings.values())
        self._averages: dict[str, float] | None = None

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        """A complete read: retried while the cluster cannot answer whole (a node just died and its
        replicas are taking over), so a search neither fails at once nor returns partial results as
        if they were whole; after RETRY_SECONDS, one EngineUnavailable line."""
        deadline = time.monotonic() + RETRY_SECONDS
        for attempt in count():
            try:
                response = self._call_once(method, **kwargs)
                failed = int(response.get("_shards", {}).get("failed", 0) or 0)
                if not failed:
                    return response
                problem = f"{failed} of {response['_shards'].get('total', '?')} shards failed to answer"
            except os_errors.TransportError as exc:  # connection errors and timeouts included
                if not _transient(exc):
                    with _errors(self._target.url, self._name):
                        raise
                problem = _reason(exc)
            pause = RETRY_PAUSES[min(attempt, len(RETRY_PAUSES) - 1)]
            if time.monotonic() + pause > deadline:
                raise EngineUnavailable(f"OpenSearch at {self._target.url} could not answer for {RETRY_SECONDS:g} s "
                                        f"({problem}); check the nodes")
            time.sleep(pause)
        raise AssertionError("unreachable")

    def _call_once(self, method: str, **kwargs: Any) -> dict[str, Any]:
        """A read on the concrete index, falling back once to the alias if the index is gone."""
        try:
            return getattr(self._client, method)(index=self._name, **kwargs)
        except os_errors.NotFoundError as exc:
            if "index_not_found" not in str(exc.error) or self._name == self._target.alias:
                raise
            self._name = self._target.alias
            return getattr(self._client, method)(index=self._name, **kwargs)

    def doc_count(self) -> int:
        return int(self._call("count")["count"])

    def doc_frequency(self, term: str, field: str | None = None) -> int:
        return self.doc_frequencies([term], field)[term]

    def doc_frequencies(self, terms: Iterable[str], field: str | None = None) -> dict[str, int]:
        """Articles holding each term in `field` or any searchable field, in one request."""
        fields = (field,) if field else SEARCH_FIELDS
        wanted = {f"t{i}": term for i, term in enumerate(dict.fromkeys(terms))}  # filter names: any term is safe
        if not wanted:
            return {}
        filters = {name: {"bool": {"should": [{"term": {f: term}} for f in fields], "minimum_should_match": 1}}
                   for name, term in wanted.items()}
        body = {"size": 0, "track_total_hits": False, "aggs": {"df": {"filters": {"filters": filters}}}}
        buckets = self._call("search", body=body)["aggregations"]["df"]["buckets"]
        return {term: int(buckets[name]["doc_count"]) for name, term in wanted.items()}

    def counts_exact(self) -> bool:
        return True  # aggregations count live documents only

    def field_averages(self) -> Mapping[str, float] | None:
        """Averaged once per open generation over the recorded lengths (OpenSearch's BM25 is of SECTIONS)."""
        if self._averages is None and self.folded is not None and self.records_lengths:
            body = {"size": 0, "track_total_hits": False,
                    "aggs": {name: {"avg": {"field": f"{LENGTHS}.{name}"}} for name in self.searchable}}
            answer = self._call("search", body=body)["aggregations"]
            self._averages = {name: float(answer[name]["value"]) for name in self.searchable if answer[name]["value"]}
        return self._averages

    def terms_with_prefix(self, field: str, prefix: str) -> list[tuple[str, int]]:
        """A terms aggregation over the field's `vocabulary` (most articles first; at most MAX_LISTED_TERMS),
        over the articles holding a term with the prefix only: every article holding a listed term is
        among them, so the counts stay exact, and a long prefix reads few articles.

        OpenSearch 2.19 fails a shard that holds no term with the prefix when `include` is a plain
        prefix pattern (`co.*`: index_out_of_bounds_exception); then the equivalent `co(.*)` is asked,
        which always answers but takes 2-5 times longer for one letter.
        """
        def body(include: str) -> dict[str, Any]:
            return {"size": 0, "track_total_hits": False, "query": {"prefix": {field: prefix}}, "aggs": {"terms": {
                "terms": {"field": f"{VOCABULARY}.{field}", "include": include, "size": MAX_LISTED_TERMS}}}}

        escaped = re.sub(r"(\W)", r"\\\1", prefix)
        try:
            answer: dict[str, Any] | None = self._call_once("search", body=body(escaped + ".*"))
        except os_errors.TransportError:  # every shard failed; a lost node is waited for below
            answer = None
        if answer is None or answer.get("_shards", {}).get("failed"):
            answer = self._call("search", body=body(escaped + "(.*)"))
        return [(b["key"], int(b["doc_count"])) for b in answer["aggregations"]["terms"]["buckets"]]

    def article(self, article_id: str) -> Article | None:
        """One stored article by id (for --like)."""
        body = {"query": {"ids": {"values": [article_id]}}, "size": 1, "_source": ["article"]}
        hits = self._call("search", body=body)["hits"]["hits"]
        return from_source(hits[0]["_source"]) if hits else None

    def facets(self, root: Node, weights: Mapping[str, float], filters: Filters | None, names: Iterable[str],
               size: int) -> Facets:
        """Aggregations over the matches: a terms aggregation per keyword field; for years (the date is a
        keyword, and clusters may lack scripting), the first and last dates found first, then one
        prefix filter per year between them (at most MAX_FACET_YEARS, the latest)."""
        query = _query(expand(root, self), weights, filters)
        names = list(names)
        aggregations: dict[str, Any] = {name: {"terms": {"field": FACET_FIELDS[name], "size": size,
                                                         "shard_size": max(size, MAX_LISTED_TERMS)}}
                                        for name in names if name != "year"}
        if "year" in names and (years := self._years(query)):
            aggregations["year"] = {"filters": {"filters": {year: {"prefix": {"date": year}} for year in years}}}
        body = {"size": 0, "track_total_hits": False, "query": query, "aggs": aggregations}
        answer = self._call("search", body=body)["aggregations"] if aggregations else {}
        found: Facets = {}
        for name in names:
            buckets = answer[name]["buckets"] if name in answer else {}
            counts = ({year: int(b["doc_count"]) for year, b in buckets.items()} if name == "year"
                      else {str(b["key"]): int(b["doc_count"]) for b in buckets})
            found[name] = top_values({value: count for value, count in counts.items() if count}, size)
        return found

    def _years(self, query: dict[str, Any]) -> list[str]:
        """The years from the first to the last date of the matching articles."""
        ends = {end: {"terms": {"field": "date", "size": 1, "order": {"_key": order}}}
                for end, order in (("first", "asc"), ("last", "desc"))}
        answer = self._call("search", body={"size": 0, "track_total_hits": False, "query": query, "aggs": ends})
        first, last = (year_of(next((str(b["key"]) for b in answer["aggregations"][end]["buckets"]), None))
                       for end in ("first", "last"))
        if first is None or last is None:
            return []
        return [f"{year:04d}" for year in range(max(int(first), int(last) - MAX_FACET_YEARS + 1), int(last) + 1)]

    def search(self, root: Node, weights: Mapping[str, float], limit: int, filters: Filters | None = None,
               sort_by_date: bool = False, explain: bool = False) -> EnginePage:
        root = expand(root, self)
        body: dict[str, Any] = {
            "query": _query(root, weights, filters, self.folded),
            "size": min(limit + TIE_MARGIN, MAX_RESULT_WINDOW), "track_total_hits": True, "track_scores": True,
            "_source": ["article", LENGTHS], "explain": explain,
        }
        if sort_by_date:
            body["sort"] = [{"date": {"order": "desc", "missing": "_last"}}, "_score"]
        result = self._call("search", body=body)
        labels = {frozenset(terms): leaf.label for leaf in positive_leaves(root) if isinstance(leaf, Term) and leaf.expanding
                  for terms in (leaf.index_terms(), *((t,) for t in leaf.index_terms()))}

        def hit(found: Mapping[str, Any]) -> EngineHit:
            article = from_source(found["_source"])
            lengths = found["_source"].get(LENGTHS) if self.records_lengths else None
            return EngineHit(article, float(found.get("_score") or 0.0),
                             _contributions(found["_explanation"], labels, article, self.folded) if explain else (),
                             {name: int(lengths.get(name, 0)) for name in self.searchable} if lengths is not None else None)

        hits = (hit(h) for h in result["hits"]["hits"])
        return EnginePage(int(result["hits"]["total"]["value"]), in_stable_order(hits, limit, sort_by_date))

    def close(self) -> None:
        self._client.close()


# -- the engine ---------------------------------------------------------------------------------------

class OpenSearchEngine(Engine):
    """Writes and opens generations whose documents live in an OpenSearch cluster."""

    name = "opensearch"
    stores_elsewhere = True

    def __init__(self, url: str | None = None, alias: str = "articles", shards: int = 1, replicas: int = 1,
                 weights: Mapping[str, float] = DEFAULT_WEIGHTS) -> None:
        self.url, self.alias, self.shards, self.replicas = url, alias, shards, replicas
        self.folded = folded_weights(weights)  # into the SECTIONS field of the indexes it creates

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
        body = mapping(self.shards, self.folded)
        with _errors(self.url):
            client.indices.create(index=target.index, body=body)
        target.save(directory)
        properties = body["mappings"]["properties"]
        return OpenSearchWriter(client, target, fresh=True, folded=self.folded, held=held_fields([properties]),
                                lengths=LENGTHS in properties)

    def update(self, directory: Path) -> OpenSearchWriter:
        """Changes applied in place to the generation's index (not transactional: see deploy/OPENSEARCH.md)."""
        target = Target.load(directory)
        client = self._client_for(target)
        index = OpenSearchIndex(client, target)  # exists and not red
        return OpenSearchWriter(client, target, fresh=False, folded=index.folded, held=index.searchable,
                                lengths=index.records_lengths)

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
    return OpenSearchEngine(config.opensearch_url, config.opensearch_alias, config.opensearch_shards, config.opensearch_replicas,
                            config.weights)


ENGINE = OpenSearchEngine()
