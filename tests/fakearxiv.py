"""A stand-in for arXiv's API and OAI-PMH endpoint on 127.0.0.1, for tests without network.

Responses follow arXiv's documented formats (API: Atom 1.0 with opensearch totals and arxiv:
extensions; OAI-PMH: ListRecords in the ``arXiv`` metadata format with resumption tokens).
The API filters its papers by the query's ``submittedDate`` range and pages by ``start`` /
``max_results``; ``faults`` holds (status, headers) answers served before the next real ones.
"""

from __future__ import annotations

import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape


@dataclass
class Entry:
    id: str
    title: str
    abstract: str
    published: str  # 2026-11-30T18:00:00Z
    version: int = 1
    updated: str = ""
    authors: tuple[str, ...] = ("Ada Lovelace", "Alan Turing")
    categories: tuple[str, ...] = ("cs.LG",)
    raw_published: str | None = None  # served as is (a malformed date)

    def atom(self) -> str:
        cats = "".join(f'<category term="{c}" scheme="http://arxiv.org/schemas/atom"/>'
                       for c in self.categories)
        authors = "".join(f"<author><name>{escape(a)}</name></author>" for a in self.authors)
        published = self.raw_published if self.raw_published is not None else self.published
        return (
            f"<entry><id>http://arxiv.org/abs/{self.id}v{self.version}</id>"
            f"<updated>{self.updated or self.published}</updated>"
            f"<published>{escape(published)}</published>"
            f"<title>{escape(self.title)}</title><summary>  {escape(self.abstract)}\n</summary>"
            f"{authors}<arxiv:comment>10 pages</arxiv:comment>"
            f'<link href="http://arxiv.org/abs/{self.id}v{self.version}" rel="alternate" '
            f'type="text/html"/><link title="pdf" href="http://arxiv.org/pdf/{self.id}'
            f'v{self.version}" rel="related" type="application/pdf"/>'
            f'<arxiv:primary_category term="{self.categories[0]}" '
            f'scheme="http://arxiv.org/schemas/atom"/>{cats}</entry>')

    def oai(self) -> str:
        authors = "".join(
            f"<author><keyname>{escape(a.split()[-1])}</keyname>"
            f"<forenames>{escape(' '.join(a.split()[:-1]))}</forenames></author>"
            for a in self.authors)
        created = (self.raw_published if self.raw_published is not None
                   else self.published[:10])
        updated = f"<updated>{(self.updated or self.published)[:10]}</updated>" \
            if self.version > 1 else ""
        return (
            f"<record><header><identifier>oai:arXiv.org:{self.id}</identifier>"
            f"<datestamp>{(self.updated or self.published)[:10]}</datestamp>"
            f"<setSpec>cs</setSpec></header><metadata>"
            f'<arXiv xmlns="http://arxiv.org/OAI/arXiv/" '
            f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<id>{self.id}</id><created>{escape(created)}</created>{updated}"
            f"<authors>{authors}</authors><title>{escape(self.title)}</title>"
            f"<categories>{' '.join(self.categories)}</categories>"
            f"<license>http://arxiv.org/licenses/nonexclusive-distrib/1.0/</license>"
            f"<abstract>  {escape(self.abstract)}\n</abstract></arXiv></metadata></record>")


_RANGE = re.compile(r"submittedDate:\[(\d{8})\d{4} TO (\d{8})\d{4}\]")


@dataclass
class FakeArxiv:
    entries: list[Entry] = field(default_factory=list)
    faults: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    oai_page: int = 2
    requests: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    url: str = ""
    expired_tokens: set[str] = field(default_factory=set)
    # Raw answers by request number (1-based), served instead of the real one.
    raw: dict[int, bytes] = field(default_factory=dict)
    # Request numbers (1-based) whose answer is cut short (the connection closes early).
    truncate: set[int] = field(default_factory=set)
    # Request number (1-based) held until ``release`` is set; ``blocked`` is set when it came.
    block_at: int | None = None
    blocked: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/query"

    @property
    def oai_url(self) -> str:
        return f"{self.url}/oai"

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if self.block_at == len(self.requests):
            self.blocked.set()
            self.release.wait(30)
        if self.faults:
            status, headers = self.faults.pop(0)
            return status, headers, b"<html>busy</html>"
        if len(self.requests) in self.raw:
            return 200, {}, self.raw[len(self.requests)]
        if path == "/api/query":
            return 200, {"Content-Type": "application/atom+xml"}, self.api(query).encode()
        if path == "/oai":
            return 200, {"Content-Type": "text/xml"}, self.oai(query).encode()
        return 404, {}, b"not found"

    def api(self, query: dict[str, str]) -> str:
        search = query.get("search_query", "")
        match = _RANGE.search(search)
        chosen = self.entries
        if match:
            low, high = (f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in match.groups())
            chosen = [e for e in chosen if low <= e.published[:10] <= high]
        category = re.search(r"cat:(\S+)", search)
        if category:
            chosen = [e for e in chosen if category[1] in e.categories]
        start, size = int(query.get("start", 0)), int(query.get("max_results", 10))
        page = chosen[start:start + size]
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom" '
            'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
            'xmlns:arxiv="http://arxiv.org/schemas/atom">'
            '<link href="http://arxiv.org/api/query" rel="self" type="application/atom+xml"/>'
            f"<title type=\"html\">ArXiv Query: {escape(search)}</title>"
            "<id>http://arxiv.org/api/fake</id><updated>2026-12-01T00:00:00-05:00</updated>"
            f"<opensearch:totalResults>{len(chosen)}</opensearch:totalResults>"
            f"<opensearch:startIndex>{start}</opensearch:startIndex>"
            f"<opensearch:itemsPerPage>{size}</opensearch:itemsPerPage>"
            + "".join(e.atom() for e in page) + "</feed>")

    def oai(self, query: dict[str, str]) -> str:
        head = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" '
                'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                "<responseDate>2026-12-01T00:00:00Z</responseDate>"
                f'<request verb="ListRecords">{escape(self.oai_url)}</request>')
        token = query.get("resumptionToken")
        if token in self.expired_tokens:  # once: the next harvest hands out a fresh one
            self.expired_tokens.discard(token)
            return head + '<error code="badResumptionToken">expired</error></OAI-PMH>'
        if token:
            start = int(token.split("-")[1])
        else:
            start = 0
        low = query.get("from", "0000")
        chosen = [e for e in self.entries if (e.updated or e.published)[:10] >= low]
        if not chosen:
            return head + '<error code="noRecordsMatch">none</error></OAI-PMH>'
        page = chosen[start:start + self.oai_page]
        after = start + self.oai_page
        more = (f'<resumptionToken cursor="{start}" completeListSize="{len(chosen)}">'
                f"tok-{after}</resumptionToken>" if after < len(chosen) else
                f'<resumptionToken cursor="{start}" completeListSize="{len(chosen)}"/>')
        return (head + "<ListRecords>" + "".join(e.oai() for e in page) + more
                + "</ListRecords></OAI-PMH>")


def serve(fake: FakeArxiv) -> ThreadingHTTPServer:
    """Start serving ``fake`` on a free port of 127.0.0.1 in a thread; sets ``fake.url``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            parsed = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parsed.query))
            fake.requests.append(self.path)
            fake.agents.append(self.headers.get("User-Agent", ""))
            status, headers, body = fake.answer(parsed.path, query)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            short = len(fake.requests) in fake.truncate
            self.send_header("Content-Length", str(len(body) + (1000 if short else 0)))
            self.end_headers()
            self.wfile.write(body)
            if short:
                self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


WORDS = {
    "memory": ("Activation Offloading for Large Model Training",
               "We offload activations and optimizer states to CPU memory and recompute "
               "activations with gradient checkpointing, cutting GPU memory by half."),
    "communication": ("Compressed Gradients for Data-Parallel Training",
                      "We compress gradients before the all-reduce, cutting communication "
                      "between workers by ten times in distributed data-parallel training."),
    "data_selection": ("Pruning the Pretraining Corpus",
                       "We select the most informative training examples and prune the "
                       "dataset, training on a third of the data with the same accuracy."),
    "off_topic": ("Protein Folding with Graph Networks",
                  "We predict protein structures with a graph neural network trained on "
                  "experimental data and report accuracy on benchmark sets."),
}


def make_entries(days: list[str], per_day: int = 3, prefix: str = "2611") -> list[Entry]:
    """Papers submitted on ``days`` (YYYY-MM-DD), cycling through the kinds of WORDS."""
    kinds = list(WORDS)
    out = []
    n = 0
    for day in days:
        for _ in range(per_day):
            title, abstract = WORDS[kinds[n % len(kinds)]]
            n += 1
            out.append(Entry(id=f"{prefix}.{n:05d}", title=f"{title} {n}",
                             abstract=f"{abstract} Variant {n}.",
                             published=f"{day}T{10 + n % 10:02d}:00:00Z"))
    return out
