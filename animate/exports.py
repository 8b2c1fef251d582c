"""CSV downloads streamed from the database batch by batch (ledger, audit log), for pages and the API."""

import csv
import io
from collections.abc import AsyncIterator, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse

# Spreadsheets run a cell that starts with one of these as a formula; text cells get a quote in front
# (numbers are passed as numbers, so a negative amount stays a number).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def csv_stream(
    *, filename: str, header: list[str], batch: Callable[[Any], tuple[list[list[Any]], Any]]
) -> StreamingHttpResponse:
    """A CSV download streamed batch by batch: ``batch(cursor)`` returns rows and the next cursor (None
    when done), each batch its own query, so memory stays flat whatever the number of rows.

    The body is an async iterator: under ASGI, Django would read a sync one into memory whole first.
    """

    def encode(rows: list[list[Any]]) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerows([[csv_cell(cell) for cell in row] for row in rows])
        return buffer.getvalue().encode("utf-8")

    async def content() -> AsyncIterator[bytes]:
        # The byte order mark makes spreadsheet programs read the file as UTF-8.
        yield b"\xef\xbb\xbf" + encode([header])
        cursor: Any = None
        while True:
            rows, cursor = await sync_to_async(batch)(cursor)
            if rows:
                yield encode(rows)
            if cursor is None:
                return

    response = StreamingHttpResponse(content(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
