"""Folio's PDF index vs tantivy on the catalogue's sample-chapter PDFs: queries/s.

One preview per public-domain work (Shakespeare, Austen, the KJV's books, the Devil's
Dictionary: 150 PDFs), rendered exactly as the catalogue renders its previews
(``folio.catalog.api.render_preview``), is written under ``.folio/bench/pdfs``; their
text is extracted once with ``folio.pdfindex.extract``, then indexed by both sides
(title and body; tantivy with the ``en_stem`` tokenizer, in RAM). The same ``QUERIES``
run ``ROUNDS`` times on each (words are ANDed on both sides, title boosted 3x);
``parameters`` holds indexing times, p95 latency, the mean top-10 overlap (Jaccard of
doc ids), and how long Folio takes to save its index and load it again (what every
``folio pdf search`` pays before its query).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import tantivy

from benchmarks.harness import RESULTS_DIR, BenchResult, Measurement
from folio.catalog.api import PUBLIC_DOMAIN_SOURCES, render_preview
from folio.core.settings import load_settings
from folio.datasets.api import fetch, read_public_domain_texts
from folio.pdfindex.api import InvertedIndex, extract_pdf

NAME = "pdfindex"
PDF_DIR = RESULTS_DIR / "pdfs"
ROUNDS = int(os.environ.get("FOLIO_BENCH_ROUNDS", "5"))
TOP = 10
QUERIES = (
    "love",
    "king",
    "ghost",
    "murder",
    "crown",
    "fairy",
    "storm",
    "witch",
    "sword",
    "honour",
    "daughter marriage",
    "dead father",
    "fair lady",
    "noble lord",
    "sweet love",
    "good night",
    "war peace",
    "gold ring",
    "holy friar",
    "night dream",
)


def generate_pdfs() -> list[tuple[str, str]]:
    """Write one catalogue preview per public-domain work; return (doc id, path) pairs."""
    data_dir = Path(load_settings().home) / "data"
    PDF_DIR.mkdir(parents=True, exist_ok=True)
    made: list[tuple[str, str]] = []
    for source in PUBLIC_DOMAIN_SOURCES:
        for work in read_public_domain_texts(source, fetch(source, data_dir=data_dir)):
            doc_id = f"{source}-{work.key}"
            target = PDF_DIR / f"{doc_id}.pdf"
            target.write_bytes(render_preview(title=work.title, author=work.author, text=work.text))
            made.append((doc_id, str(target)))
    return made


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _time_queries(label: str, search: Callable[[str], list[str]]) -> tuple[Measurement, float]:
    for query in QUERIES:  # warm-up
        search(query)
    latencies: list[float] = []
    for _ in range(ROUNDS):
        for query in QUERIES:
            start = time.perf_counter()
            search(query)
            latencies.append(time.perf_counter() - start)
    total = sum(latencies)
    measurement = Measurement(
        label=label,
        requests=len(latencies),
        seconds=total,
        rps=len(latencies) / total,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=_percentile(latencies, 0.99) * 1000,
        errors=0,
    )
    return measurement, _percentile(latencies, 0.95) * 1000


def _tantivy_index(docs: list[tuple[str, str, str]]) -> tantivy.Index:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=True, tokenizer_name="en_stem")
    builder.add_text_field("body", stored=False, tokenizer_name="en_stem")
    index = tantivy.Index(builder.build())
    writer = index.writer()
    for doc_id, title, body in docs:
        writer.add_document(tantivy.Document(id=doc_id, title=title, body=body))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    return index


def run() -> BenchResult:
    """Generate the PDFs, index them on both sides, time the queries, compare the top 10s."""
    start = time.perf_counter()
    pdfs = generate_pdfs()
    generate_s = time.perf_counter() - start
    start = time.perf_counter()
    extracted = [(doc_id, extract_pdf(Path(path))) for doc_id, path in pdfs]
    extract_s = time.perf_counter() - start
    docs = [(doc_id, pdf.title, pdf.body) for doc_id, pdf in extracted]

    start = time.perf_counter()
    folio_index = InvertedIndex()
    for doc_id, title, body in docs:
        folio_index.add(doc_id, {"title": title, "body": body})
    folio_index_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as saved:
        start = time.perf_counter()
        folio_index.save(Path(saved))
        folio_save_s = time.perf_counter() - start
        start = time.perf_counter()
        InvertedIndex.load(Path(saved))
        folio_load_s = time.perf_counter() - start

    start = time.perf_counter()
    index = _tantivy_index(docs)
    tantivy_index_s = time.perf_counter() - start
    searcher = index.searcher()

    def folio_search(query: str) -> list[str]:
        return [hit.doc_id for hit in folio_index.search(query, top=TOP)]

    def tantivy_search(query: str) -> list[str]:
        parsed = index.parse_query(
            query, ["title", "body"], field_boosts={"title": 3.0}, conjunction_by_default=True
        )
        hits = searcher.search(parsed, TOP).hits
        return [str(searcher.doc(address).get_first("id")) for _, address in hits]

    folio, folio_p95 = _time_queries("folio", folio_search)
    peer, peer_p95 = _time_queries("tantivy", tantivy_search)

    overlaps: list[float] = []
    for query in QUERIES:
        ours, theirs = set(folio_search(query)), set(tantivy_search(query))
        union = ours | theirs
        overlaps.append(len(ours & theirs) / len(union) if union else 1.0)

    return BenchResult.comparing(
        __doc__,
        name=NAME,
        folio=folio,
        peer=peer,
        ratio_label="folio/tantivy queries/s",
        parameters={
            "documents": len(docs),
            "pdfs": "catalogue previews of the public-domain works (first ~9,000 characters each)",
            "pdf_dir": str(PDF_DIR),
            "queries": list(QUERIES),
            "rounds": ROUNDS,
            "top": TOP,
            "generate_pdfs_s": generate_s,
            "extract_s": extract_s,
            "folio_index_s": folio_index_s,
            "tantivy_index_s": tantivy_index_s,
            "folio_save_s": folio_save_s,
            "folio_load_s": folio_load_s,
            "folio_p50_ms": folio.p50_ms,
            "folio_p95_ms": folio_p95,
            "tantivy_p50_ms": peer.p50_ms,
            "tantivy_p95_ms": peer_p95,
            "mean_top10_jaccard": statistics.fmean(overlaps),
            "top10_jaccard_by_query": dict(zip(QUERIES, overlaps, strict=True)),
        },
    )
