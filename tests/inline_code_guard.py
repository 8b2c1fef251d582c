"""Test-only middleware: every HTML page the suite renders is checked for code the CSP would refuse.

Installed first in ``MIDDLEWARE`` by ``project.test_settings``, so each test that renders a page (with
the test client or through a live server) fails when the page holds an inline ``<script>``, a ``<style>``
block, a ``style=`` or ``on…=`` attribute or a ``javascript:`` URL. Django's own admin pages are not ours
and are left out.
"""

from collections.abc import Callable
from html.parser import HTMLParser

from django.http import HttpRequest, HttpResponse

EXEMPT_PREFIXES = ("/admin/",)
# Data blocks, such as ``{{ value|json_script }}``, are not run and the CSP does not apply to them.
DATA_TYPES = frozenset({"application/json", "application/ld+json"})


class InlineCodeFound(AssertionError):
    pass


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._script: tuple[int, int] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        line = self.getpos()[0]
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.problems.append(f"line {line}: <{tag} {name}=...>")
            if name in {"href", "src", "action"} and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"line {line}: <{tag} {name}=javascript:...>")
        if tag == "style":
            self.problems.append(f"line {line}: a <style> block")
        if tag == "script" and "src" not in found and (found.get("type") or "").lower() not in DATA_TYPES:
            self._script, self._text = self.getpos(), []

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            if "".join(self._text).strip():
                self.problems.append(f"line {self._script[0]}: an inline <script>")
            self._script = None


def inline_code(html: str) -> list[str]:
    finder = _Finder()
    finder.feed(html)
    finder.close()
    return finder.problems


class InlineCodeGuard:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if (
            content_type.startswith("text/html")
            and not getattr(response, "streaming", False)
            and not request.path.startswith(EXEMPT_PREFIXES)
        ):
            problems = inline_code(response.content.decode(response.charset or "utf-8", "replace"))
            if problems:
                raise InlineCodeFound(f"{request.path} holds code the CSP refuses: {'; '.join(problems)}")
        return response
