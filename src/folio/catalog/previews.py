"""Sample-chapter PDFs for public-domain texts, kept in the object store.

A preview is the work's title (and author) on top and the first ``PREVIEW_CHARS``
characters of its text (about three pages), set in a core PDF font. Core fonts only
know Latin-1, so text is folded first (``fold_to_latin1``): typographic quotes and
dashes become their ASCII kin, accented letters outside Latin-1 lose the accent, and
anything left becomes ``?``. The PDF is stored at ``previews/<work id>.pdf`` and the
work's ``preview_key`` set to it (with an outbox row: ``has_preview`` changed).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.catalog.importer import TextLike
from folio.catalog.models import Work
from folio.catalog.outbox import record_change
from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.objectstore import ObjectStore

__all__ = [
    "PREVIEW_CHARS",
    "PreviewReport",
    "export_previews",
    "fold_to_latin1",
    "generate_previews",
    "preview_key_for",
    "render_preview",
]

PREVIEW_CHARS = 9_000
"""How much text a preview holds: about three pages of 11 pt Times."""

_FOLDS = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "--",
        "\u2026": "...",
        "\u00a0": " ",
        "\ufeff": "",
    }
)
_LATIN1_END = 256
_FIXED_DATE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def fold_to_latin1(text: str) -> str:
    """``text`` with every character a Latin-1 core font can draw (see the module docstring)."""
    folded = []
    for char in text.translate(_FOLDS):
        if ord(char) < _LATIN1_END:
            folded.append(char)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        folded.append(base if base and all(ord(c) < _LATIN1_END for c in base) else "?")
    return "".join(folded)


def preview_key_for(work_id: uuid.UUID) -> str:
    """The object key of a work's preview."""
    return f"previews/{work_id}.pdf"


def _excerpt(text: str) -> str:
    if len(text) <= PREVIEW_CHARS:
        return text.strip()
    cut = text.rfind("\n\n", 0, PREVIEW_CHARS)
    return text[: cut if cut > PREVIEW_CHARS // 2 else PREVIEW_CHARS].strip()


def render_preview(*, title: str, author: str | None, text: str) -> bytes:
    """The preview PDF's bytes (deterministic: the same input gives the same bytes)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(_FIXED_DATE)
    pdf.set_title(fold_to_latin1(title))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font("Times", style="B", size=18)
    pdf.multi_cell(0, 9, fold_to_latin1(title), align="C", new_x="LMARGIN", new_y="NEXT")
    if author:
        pdf.set_font("Times", style="I", size=12)
        pdf.multi_cell(0, 7, fold_to_latin1(author), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Times", size=11)
    pdf.multi_cell(0, 5.5, fold_to_latin1(_excerpt(text)), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Times", style="I", size=9)
    pdf.multi_cell(0, 5, "Sample pages. Public domain text.", align="C")
    return bytes(pdf.output())


@dataclass
class PreviewReport:
    """What a preview run did."""

    generated: int = 0
    unchanged: int = 0
    missing_work: int = 0


async def generate_previews(
    db: Database,
    store: ObjectStore,
    *,
    source: str,
    texts: Iterable[TextLike],
    limit: int | None = None,
    on_item: Callable[[], None] | None = None,
) -> PreviewReport:
    """Render and store a preview for each text whose work ``(source, text.key)`` is catalogued.

    The object is written before the row points at it, so a reader never follows a key
    to nothing; a rerun rewrites the same bytes and changes no row (``unchanged``).
    """
    report = PreviewReport()
    for count, text in enumerate(texts, start=1):
        if limit is not None and count > limit:
            break

        async def find(
            session: AsyncSession, key: str = text.key
        ) -> tuple[uuid.UUID, str, str | None] | None:
            row = (
                await session.execute(
                    select(Work.id, Work.title, Work.preview_key).where(
                        Work.source == source, Work.source_key == key
                    )
                )
            ).first()
            return None if row is None else (row[0], row[1], row[2])

        found = await db.run(find, readonly=True)
        if found is None:
            report.missing_work += 1
        else:
            work_id, title, current = found
            key = preview_key_for(work_id)
            data = await asyncio.to_thread(render_preview, title=title, author=text.author, text=text.text)
            await store.put(key, data, content_type="application/pdf")
            if current == key:
                report.unchanged += 1
            else:

                async def point(session: AsyncSession, work_id: uuid.UUID = work_id, key: str = key) -> None:
                    work = (
                        await session.execute(select(Work).where(Work.id == work_id).with_for_update())
                    ).scalar_one()
                    work.preview_key = key
                    work.version += 1
                    work.updated_at = utcnow()
                    await record_change(session, entity="work", op="upsert", entity_id=work_id)

                await db.run(point)
                report.generated += 1
        if on_item is not None:
            on_item()
    return report


async def export_previews(db: Database, store: ObjectStore, *, target: Path) -> int:
    """Copy every work's preview PDF from the object store to ``target/<work id>.pdf``; the count.

    The PDF index (``folio pdf index``) reads files: this is how it indexes the previews.
    """

    async def keys(session: AsyncSession) -> list[tuple[uuid.UUID, str]]:
        rows = await session.execute(
            select(Work.id, Work.preview_key).where(Work.preview_key.is_not(None)).order_by(Work.id)
        )
        return [(work_id, key) for work_id, key in rows.all() if key is not None]

    await asyncio.to_thread(target.mkdir, parents=True, exist_ok=True)
    previews = await db.run(keys)
    for work_id, key in previews:
        await asyncio.to_thread((target / f"{work_id}.pdf").write_bytes, await store.get(key))
    return len(previews)
