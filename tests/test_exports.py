"""CSV downloads: streamed batch by batch from an async iterator, UTF-8, formulas neutralised."""

import asyncio
import csv
import io

from animate.exports import csv_cell, csv_stream


def test_cells_a_spreadsheet_would_run_as_formulas_are_quoted():
    assert [csv_cell(value) for value in ("=SUM(A1)", "+1", "-2", "@x", "plain", None, 3)] == [
        "'=SUM(A1)",
        "'+1",
        "'-2",
        "'@x",
        "plain",
        "",
        3,
    ]


def test_the_body_is_the_header_then_each_batch_until_the_cursor_ends():
    calls = []

    def batch(cursor):
        calls.append(cursor)
        return ([[1, "é"]], 1) if cursor is None else ([[2, "=x"]], None)

    response = csv_stream(filename="x.csv", header=["id", "name"], batch=batch)

    async def body():
        return b"".join([chunk async for chunk in response])

    data = asyncio.run(body())
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert data.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == [
        ["id", "name"],
        ["1", "é"],
        ["2", "'=x"],
    ]
    assert calls == [None, 1]
