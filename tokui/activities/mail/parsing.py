"""Turn a raw RFC 5322 message into the few things Tokui keeps, whatever state it is in.

``parse_message`` never raises: broken MIME, unknown charsets (a mislabelled ISO-2022-JP or
Shift_JIS included), missing headers and binary junk all give a ParsedMail with what could be
read and, in ``problems``, why the rest could not.
"""

import email
import email.utils
import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from html.parser import HTMLParser
from typing import Any

# Japanese mail declares one charset and often uses a superset of it (NEC and IBM extensions
# in ISO-2022-JP, CP932 in Shift_JIS): decode with the superset Python knows.
_CHARSET_ALIASES = {
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "iso-2022-jp-ms": "iso2022_jp_ext",
    "euc-jp": "euc_jis_2004",
    "x-euc-jp": "euc_jis_2004",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
}
# Tried in order when a part's charset is unknown or wrong.
_FALLBACK_CHARSETS = ("utf-8", "iso2022_jp_ext", "cp932", "euc_jis_2004")

MAX_BODY_CHARS = 200_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,900}>")


@dataclass
class ParsedAttachment:
    name: str
    content_type: str
    data: bytes


@dataclass
class ParsedMail:
    message_id: str  # "<…>" as sent, or a synthetic "<sha256@synthetic.tokui>"
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_name: str = ""
    from_address: str = ""
    to: list[tuple[str, str]] = field(default_factory=list)
    cc: list[tuple[str, str]] = field(default_factory=list)
    date: datetime | None = None
    text: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def thread_ids(self) -> list[str]:
        """Ids of earlier messages of the thread, nearest first."""
        ids = [self.in_reply_to] if self.in_reply_to else []
        ids += [r for r in reversed(self.references) if r not in ids]
        return ids

    @property
    def thread_root(self) -> str:
        return (self.references[0] if self.references else self.in_reply_to) or self.message_id

    def addresses(self) -> list[str]:
        """Every address of the message (from, to, cc), lower-cased, once each."""
        found: list[str] = []
        for _name, addr in [("", self.from_address), *self.to, *self.cc]:
            if addr and addr.lower() not in found:
                found.append(addr.lower())
        return found


def clean_text(value: str) -> str:
    """Text safe for any database: valid UTF-8 (no lone surrogates), no NUL or control codes."""
    if not value:
        return ""
    try:
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:
        value = value.encode("utf-8", "replace").decode("utf-8", "replace")
    return _CONTROL.sub("", value).replace("\r\n", "\n").replace("\r", "\n")


def one_line(value: str) -> str:
    return re.sub(r"\s+", " ", clean_text(value)).strip()


def _decode_bytes(data: bytes, charset: str | None, problems: list[str]) -> str:
    declared = (charset or "").strip().strip('"').lower()
    candidates = []
    if declared:
        candidates.append(_CHARSET_ALIASES.get(declared, declared))
    candidates += [c for c in _FALLBACK_CHARSETS if c not in candidates]
    for name in candidates:
        try:
            return data.decode(name)
        except LookupError:
            problems.append(f"unknown charset {declared[:40]!r}")
        except UnicodeDecodeError:
            continue
    problems.append("undecodable text, shown with replacement characters")
    return data.decode("utf-8", "replace")


def _header(msg: Message, name: str, problems: list[str]) -> str:
    """A header as text; falls back to decoding the raw encoded words by hand."""
    try:
        value = msg.get(name)
        return clean_text(str(value)) if value is not None else ""
    except Exception:
        pass
    raw = ""
    try:
        for key, val in msg.raw_items():  # type: ignore[attr-defined]
            if key.lower() == name.lower():
                raw = str(val)
                break
    except Exception:
        return ""
    problems.append(f"malformed {name} header")
    try:
        return clean_text(str(make_header(decode_header(raw))))
    except Exception:
        return clean_text(raw)


def _address_list(msg: Message, name: str, problems: list[str]) -> list[tuple[str, str]]:
    values: list[str] = []
    try:
        values = [str(v) for v in msg.get_all(name, [])]
    except Exception:
        values = [_header(msg, name, problems)]
    pairs = []
    for real, addr in email.utils.getaddresses(values):
        addr = clean_text(addr).strip()
        if addr and "@" in addr and len(addr) <= 254 and not re.search(r"\s", addr):
            pairs.append((one_line(real)[:200], addr))
    return pairs


def _message_ids(value: str) -> list[str]:
    return _MESSAGE_ID.findall(value or "")


class _TextExtractor(HTMLParser):
    """Visible text of an HTML mail: no script, style or head; blocks on their own lines."""

    _SKIP = frozenset({"script", "style", "head", "title", "template", "noscript"})
    _BLOCK = frozenset(
        {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML body. The result is text: it is escaped wherever it is shown."""
    extractor = _TextExtractor()
    try:
        extractor.feed(markup)
        extractor.close()
        text = "".join(extractor.parts)
    except Exception:
        text = html.unescape(re.sub(r"<[^>]*>", " ", markup))
    lines = [re.sub(r"[ \t\u3000]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _part_text(part: Message, problems: list[str]) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return clean_text(raw) if isinstance(raw, str) else ""
    return clean_text(_decode_bytes(payload, part.get_content_charset(), problems))


def _filename(part: Message, problems: list[str]) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        problems.append("unreadable attachment name")
        name = ""
    return one_line(str(name))


def _synthetic_id(msg: Message, raw: bytes, problems: list[str]) -> str:
    """A stable id for a message without Message-ID: the same message always hashes the same."""
    digest = hashlib.sha256()
    for name in ("Date", "From", "To", "Cc", "Subject"):
        digest.update(_header(msg, name, problems).encode("utf-8", "replace") + b"\n")
    if not any(_header(msg, n, problems) for n in ("Date", "From", "Subject")):
        digest.update(raw)  # nothing identifies it: the whole message does
    return f"<{digest.hexdigest()[:48]}@synthetic.tokui>"


def parse_message(raw: bytes) -> ParsedMail:
    """Parse one message. Never raises; see ``ParsedMail.problems`` for what went wrong."""
    problems: list[str] = []
    try:
        msg = email.message_from_bytes(raw, policy=policy.default)
    except Exception:
        msg = email.message_from_bytes(raw, policy=policy.compat32)  # type: ignore[arg-type]
        problems.append("unparsable message structure")

    ids = _message_ids(_header(msg, "Message-ID", problems))
    message_id = ids[0] if ids else _synthetic_id(msg, raw, problems)
    in_reply = _message_ids(_header(msg, "In-Reply-To", problems))
    parsed = ParsedMail(
        message_id=message_id,
        in_reply_to=in_reply[0] if in_reply else "",
        references=_message_ids(_header(msg, "References", problems))[-50:],
        subject=one_line(_header(msg, "Subject", problems)),
    )
    senders = _address_list(msg, "From", problems)
    if senders:
        parsed.from_name, parsed.from_address = senders[0]
    parsed.to = _address_list(msg, "To", problems)
    parsed.cc = _address_list(msg, "Cc", problems)
    date_text = _header(msg, "Date", problems)
    if date_text:
        try:
            date = email.utils.parsedate_to_datetime(date_text)
            parsed.date = date if date.tzinfo is not None else None
        except (TypeError, ValueError, IndexError, OverflowError):
            problems.append("unreadable Date header")

    plain: list[str] = []
    markup: list[str] = []
    try:
        parts = list(msg.walk())
    except Exception:
        parts = [msg]
        problems.append("broken MIME structure")
    for part in parts:
        try:
            if part.is_multipart():
                continue
            content_type = part.get_content_type()
            disposition = part.get_content_disposition()
            name = _filename(part, problems)
            if disposition == "attachment" or (name and content_type not in ("text/plain",)):
                data = part.get_payload(decode=True)
                if isinstance(data, bytes):
                    parsed.attachments.append(
                        ParsedAttachment(name or "attachment", content_type[:255], data)
                    )
            elif content_type == "text/plain":
                plain.append(_part_text(part, problems))
            elif content_type == "text/html":
                markup.append(_part_text(part, problems))
        except Exception:
            problems.append("unreadable MIME part")
    if plain:
        parsed.text = "\n\n".join(t.strip() for t in plain if t.strip())
    elif markup:
        parsed.text = html_to_text("\n".join(markup))
    parsed.text = parsed.text[:MAX_BODY_CHARS]
    for defect in getattr(msg, "defects", [])[:5]:
        problems.append(type(defect).__name__)
    parsed.problems = list(dict.fromkeys(problems))
    return parsed


def format_addresses(pairs: list[tuple[str, str]]) -> str:
    """``山田 太郎 <yamada@example.co.jp>, b@example.com``: readable, never MIME-encoded."""
    return ", ".join(f"{name} <{addr}>" if name else addr for name, addr in pairs)
