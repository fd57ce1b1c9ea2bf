"""E-mail bodies from the Jinja2 templates shipped in this package (templates/<locale>/)."""

from __future__ import annotations

from collections.abc import Mapping

from jinja2 import Environment, PackageLoader, StrictUndefined

from returns_contracts import Locale
from returns_notifier.service.ports import RenderedBody


class JinjaRenderer:
    """Renders `<locale>/<template>.html.j2` (autoescaped) and `<locale>/<template>.txt.j2`."""

    def __init__(self) -> None:
        loader = PackageLoader("returns_notifier", "templates")
        # Two environments rather than one guessing by file name: HTML is always escaped, and
        # plain text never is (escaping it would show `&lt;` to the reader). Templates change with
        # a deploy, which restarts the process: no reload check (file stats on every e-mail).
        self._html = Environment(
            loader=loader,
            auto_reload=False,
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._text = Environment(
            loader=loader,
            auto_reload=False,
            autoescape=False,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def render(self, template: str, locale: Locale, context: Mapping[str, object]) -> RenderedBody:
        values = {**context, "lang": locale}
        html = self._html.get_template(f"{locale}/{template}.html.j2").render(values)
        text = self._text.get_template(f"{locale}/{template}.txt.j2").render(values)
        return RenderedBody(text=text, html=html)
