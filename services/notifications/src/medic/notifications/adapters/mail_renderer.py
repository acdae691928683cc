"""Emails rendered from Jinja2 templates: a plain-text part and an HTML part per kind, on a shared layout.

HTML is autoescaped (titles and names come from users); every name a template uses must be given
(StrictUndefined), so a missing value fails the email instead of sending a blank."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from medic.notifications.domain.emails import EmailKind

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates" / "emails"
MAX_SUBJECT = 200


class RenderError(Exception):
    """A kind that cannot be rendered with this context: unknown, a template missing or failing. The message names
    the kind and template, never a context value."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class MailRenderer:
    """`search_path`: directories searched in order for `<kind>.txt.j2`, `<kind>.html.j2` and the layouts."""

    def __init__(self, kinds: Mapping[str, EmailKind], search_path: Sequence[Path] = (TEMPLATES_DIR,)) -> None:
        self.kinds = kinds
        loader = jinja2.FileSystemLoader([str(path) for path in search_path])
        self._bodies = jinja2.Environment(
            loader=loader,
            autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        # Subjects are a header, not HTML: no escaping.
        self._subjects = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)  # noqa: S701

    def render(
        self,
        kind_name: str,
        context: Mapping[str, Any],
        *,
        recipient_name: str | None,
        unsubscribe_url: str | None,
    ) -> RenderedEmail:
        kind = self.kinds.get(kind_name)
        if kind is None:
            raise RenderError(f"no email kind {kind_name!r}")
        values = {**context, "kind": kind, "recipient_name": recipient_name, "unsubscribe_url": unsubscribe_url}
        try:
            subject = " ".join(self._subjects.from_string(kind.subject).render(values).split())[:MAX_SUBJECT]
            values["subject"] = subject
            text = self._bodies.get_template(f"{kind.name}.txt.j2").render(values)
            html = self._bodies.get_template(f"{kind.name}.html.j2").render(values)
        except jinja2.TemplateNotFound as error:
            raise RenderError(f"{kind.name}: template {error.name} not found") from None
        except jinja2.UndefinedError as error:  # its message names the variable, not a value
            raise RenderError(f"{kind.name}: {error.message}") from None
        except Exception as error:  # a syntax error, or a value a filter cannot take (`"a" + 1`): never the value
            raise RenderError(f"{kind.name}: {type(error).__name__} in a template") from None
        if not subject:
            raise RenderError(f"{kind.name}: the subject renders empty")
        return RenderedEmail(subject=subject, text=text, html=html)

    def preview(self, kind_name: str, *, unsubscribe_url: str) -> RenderedEmail:
        """The kind rendered with its sample, as a person named in the sample (or nobody) would get it."""
        kind = self.kinds.get(kind_name)
        if kind is None:
            raise RenderError(f"no email kind {kind_name!r}")
        return self.render(
            kind.name,
            kind.sample,
            recipient_name="Alex Example",
            unsubscribe_url=unsubscribe_url if kind.optional else None,
        )

    def check(self) -> None:
        """Render every kind's sample: a broken template fails at start-up, not on the first real email."""
        for name in self.kinds:
            self.preview(name, unsubscribe_url="https://example.invalid/unsubscribe")
