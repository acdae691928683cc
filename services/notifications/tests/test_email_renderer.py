"""Rendering: a text and an HTML part per kind on the shared layout, HTML escaped, nothing missing silently."""

from pathlib import Path

import pytest

from medic.notifications.adapters.mail_renderer import MailRenderer, RenderError
from medic.notifications.domain.email_catalogue import KINDS
from services.notifications.tests.email_support import renderer_with_test_kinds

UNSUBSCRIBE = "https://notifications.example/emails/unsubscribe/tok"


@pytest.fixture
def renderer(tmp_path: Path) -> MailRenderer:
    return renderer_with_test_kinds(tmp_path / "templates")


def test_a_kind_renders_text_and_html_on_the_layout(renderer: MailRenderer) -> None:
    rendered = renderer.render(
        "test_notice", {"project_title": "Lunchboxes"}, recipient_name="Dr Ahmed", unsubscribe_url=None
    )
    assert rendered.subject == "Notice: Lunchboxes"  # the subject's line break folded away
    assert rendered.text.startswith("Dear Dr Ahmed,")
    assert "About Lunchboxes." in rendered.text
    assert "cannot be turned off" in rendered.text  # a required kind has no unsubscribe footer
    assert "<!DOCTYPE html>" in rendered.html and "<p>About Lunchboxes.</p>" in rendered.html
    assert "<title>Notice: Lunchboxes</title>" in rendered.html
    assert "Unsubscribe" not in rendered.html


def test_html_is_escaped_and_text_is_not(renderer: MailRenderer) -> None:
    title = '<script>alert("x")</script> & Co'
    rendered = renderer.render(
        "test_digest",
        {"project_title": title, "link": "https://example.org/?a=1&b=2"},
        recipient_name="<b>Eve</b>",
        unsubscribe_url=UNSUBSCRIBE,
    )
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in rendered.html
    assert "Dear &lt;b&gt;Eve&lt;/b&gt;," in rendered.html
    assert 'href="https://example.org/?a=1&amp;b=2"' in rendered.html
    assert title in rendered.text and "Dear <b>Eve</b>," in rendered.text
    assert rendered.subject == f"Digest for {title}"  # a header, not HTML


def test_an_optional_kind_carries_its_unsubscribe_link_in_both_parts(renderer: MailRenderer) -> None:
    rendered = renderer.render(
        "test_digest",
        {"project_title": "P", "link": "https://example.org"},
        recipient_name=None,
        unsubscribe_url=UNSUBSCRIBE,
    )
    assert rendered.text.startswith("Hello,")
    assert f'Unsubscribe from "Test digests" emails: {UNSUBSCRIBE}' in rendered.text
    assert f'<a href="{UNSUBSCRIBE}"' in rendered.html


def test_a_missing_value_fails_the_email_naming_the_name_not_a_value(renderer: MailRenderer) -> None:
    with pytest.raises(RenderError, match="nobody_gives_this"):
        renderer.render("test_broken", {}, recipient_name=None, unsubscribe_url=None)
    with pytest.raises(RenderError, match="project_title"):
        renderer.render("test_notice", {}, recipient_name=None, unsubscribe_url=None)


def test_a_template_that_raises_is_a_render_error_without_the_value(renderer: MailRenderer) -> None:
    with pytest.raises(RenderError) as failed:
        renderer.render("test_raising", {"project_title": "Secret title"}, recipient_name=None, unsubscribe_url=None)
    assert str(failed.value) == "test_raising: TypeError in a template"


def test_an_unknown_kind_or_a_missing_template_is_a_render_error(renderer: MailRenderer, tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="no email kind"):
        renderer.render("no_such_kind", {}, recipient_name=None, unsubscribe_url=None)
    fresh = renderer_with_test_kinds(tmp_path / "elsewhere")
    (tmp_path / "elsewhere" / "test_notice.html.j2").unlink()
    with pytest.raises(RenderError, match=r"test_notice\.html\.j2 not found"):
        fresh.render("test_notice", {"project_title": "P"}, recipient_name=None, unsubscribe_url=None)


def test_check_fails_on_a_kind_whose_sample_does_not_render(renderer: MailRenderer) -> None:
    with pytest.raises(RenderError, match="test_broken"):
        renderer.check()


def test_every_kind_in_the_catalogue_renders_its_sample() -> None:
    renderer = MailRenderer(KINDS)
    renderer.check()
    for name, kind in KINDS.items():
        rendered = renderer.preview(name, unsubscribe_url=UNSUBSCRIBE)
        assert rendered.subject and rendered.text.strip() and "<html" in rendered.html, name
        assert (UNSUBSCRIBE in rendered.text) == kind.optional, name
