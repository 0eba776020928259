"""Notes written in Markdown, rendered to HTML that is safe to put on a page.

Two layers, so a mistake in one is caught by the other:

1. markdown-it-py in CommonMark mode with raw HTML **disabled**: ``<script>`` or ``<b>`` typed
   in a note is shown as text, never passed through. Its link validator already refuses
   ``javascript:``, ``vbscript:``, ``file:`` and ``data:`` links.
2. nh3 (the Rust ``ammonia`` sanitiser) cleans the result against an allow-list of tags and
   attributes, and of URL schemes (http, https, mailto, tel). Every link gets
   ``rel="noopener noreferrer nofollow"``.

Decisions:

- **No images.** A note is read by colleagues; an image from a remote host would tell that host
  who read the note and when (a tracking pixel), and the page's CSP blocks remote images anyway.
  ``![alt](url)`` is therefore shown as a plain link to the image (the image rule is off).
- Single line breaks are kept (``breaks``): Japanese notes are typed line by line.
- No tables, no footnotes: CommonMark only, which people know from chat tools.
"""

from functools import lru_cache

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "strong",
        "em",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
LINK_REL = "noopener noreferrer nofollow"
# Longer text is rendered up to here and the rest dropped (a note, not a book).
MAX_SOURCE = 100_000


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False})
    md.disable("image")
    return md


def render_markdown(text: str) -> SafeString:
    """Markdown ``text`` as sanitised HTML, ready to embed in a template."""
    if not text:
        return mark_safe("")
    html = _parser().render(text[:MAX_SOURCE])
    clean = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )
    # Sanitised by nh3 against an allow-list just above.
    return mark_safe(clean)
