"""Markdown notes: rendered, then sanitised; nothing a note says can run in a browser."""

import re

import pytest

from tokui.activities.markdown import render_markdown


def test_common_markdown_renders():
    html = render_markdown("**太字** と *斜体*\n\n- 一\n- 二\n\n1. a\n\n> 引用\n\n`code`")
    assert "<strong>太字</strong>" in html and "<em>斜体</em>" in html
    assert "<ul>" in html and "<li>一</li>" in html and "<ol>" in html
    assert "<blockquote>" in html and "<code>code</code>" in html


def test_single_line_breaks_are_kept():
    assert "<br>" in render_markdown("一行目\n二行目")


def test_links_get_safe_rel():
    html = render_markdown("[仕様](https://example.co.jp/spec)")
    assert 'href="https://example.co.jp/spec"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_empty_is_empty():
    assert render_markdown("") == ""


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=https://evil.example></iframe>",
        "<style>body{display:none}</style>",
        "<svg onload=alert(1)>",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](java\tscript:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](file:///etc/passwd)",
        "<http://a.example/?q=<script>>",
        '[a](https://ok.example "t" onmouseover=alert(1))',
        "**<img src=x onerror=alert(1)>**",
        "[<img src=x onerror=alert(1)>](https://ok.example)",
        "`<script>` and ```\n<script>alert(1)</script>\n```",
        "> <script>alert(1)</script>",
        "<!-- <script>alert(1)</script> -->",
        "[x]: javascript:alert(1)\n\n[click][x]",
    ],
)
def test_xss_payloads_are_harmless(payload):
    html = str(render_markdown(payload))
    assert not re.search(r"<\s*(script|img|iframe|style|svg)", html, re.IGNORECASE)
    assert not re.search(r"\son\w+\s*=", re.sub(r"&[a-z]+;|&#\d+;", "", _tags(html)))
    assert not re.search(r'href="\s*(javascript|vbscript|data|file):', _tags(html), re.I)


def _tags(html: str) -> str:
    """Only the tags of ``html`` (text between them is harmless once escaped)."""
    return " ".join(re.findall(r"<[^>]*>", html))


def test_images_are_links_never_loaded():
    html = render_markdown("![図](https://tracker.example/pixel.gif)")
    assert "<img" not in html
    assert 'href="https://tracker.example/pixel.gif"' in html


def test_raw_html_is_shown_as_text():
    html = render_markdown("<b>bold?</b>")
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html
