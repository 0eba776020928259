"""Real mail servers on loopback for the mail tests: aiosmtpd (SMTP) and Debian's dovecot (IMAP).

Import the fixtures into a test module: ``from tests.activities.mailservers import imap_server,
smtp_server  # noqa: F401``. Each server listens on 127.0.0.1 and a free port and is stopped
after the test.
"""

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

DOVECOT = "/usr/sbin/dovecot"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing answers on 127.0.0.1:{port}")


# --- SMTP -------------------------------------------------------------------------------------


@dataclass
class SmtpServer:
    host: str
    port: int
    received: list[dict[str, Any]] = field(default_factory=list)

    def messages(self) -> list[EmailMessage]:
        return [
            message_from_bytes(m["data"], policy=policy.default)  # type: ignore[misc]
            for m in self.received
        ]


class _Recorder:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.server.received.append(
            {
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "data": envelope.original_content or envelope.content,
            }
        )
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpServer]:
    """aiosmtpd on a free port, and MAILERS pointing at it (the test runner's locmem undone)."""
    from aiosmtpd.controller import Controller

    port = free_port()
    server = SmtpServer(host="127.0.0.1", port=port)
    controller = Controller(_Recorder(server), hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
    try:
        yield server
    finally:
        controller.stop()


# --- IMAP -------------------------------------------------------------------------------------


@dataclass
class ImapServer:
    host: str
    port: int
    username: str
    password: str
    root: Path

    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(self.username, self.password)
        return conn

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver a message (IMAP APPEND, as a mail server's delivery would)."""
        conn = self.client()
        try:
            typ, data = conn.append(folder, None, None, raw)
            assert typ == "OK", data
        finally:
            conn.logout()

    def flags(self, folder: str = "INBOX") -> list[bytes]:
        conn = self.client()
        try:
            conn.select(folder, readonly=True)
            _typ, data = conn.uid("FETCH", "1:*", "(FLAGS)")
            return [d for d in data if isinstance(d, bytes)]
        finally:
            conn.logout()

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _dovecot_config(root: Path, port: int, uid: int, gid: int, user: str | None) -> str:
    """A dovecot.conf of our own: IMAP only, plain text login on loopback, maildir in ``root``."""
    run_as = f"default_login_user = {user}\ndefault_internal_user = {user}\n" if user else ""
    return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 0
{run_as}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


@pytest.fixture
def imap_server() -> Iterator[ImapServer]:
    """Debian's dovecot in a temp dir, with user ``tester`` / ``secret``; stopped after."""
    if not os.path.exists(DOVECOT):
        pytest.skip(f"{DOVECOT} is not installed (apt-get install dovecot-imapd); CI has it")
    # Not under pytest's tmp_path: dovecot's unprivileged processes must reach the maildir.
    root = Path(tempfile.mkdtemp(prefix="tokui-dovecot-"))
    root.chmod(0o755)
    (root / "mail").mkdir()
    (root / "passwd").write_text("tester:{PLAIN}secret::::::\n")
    if os.getuid() == 0:
        # Mail is never accessed as root: run it as dovecot's own user.
        account = pwd.getpwnam("dovecot")
        uid, gid, user = account.pw_uid, account.pw_gid, None
        os.chown(root / "mail", uid, gid)
    else:
        uid, gid = os.getuid(), os.getgid()
        user = pwd.getpwuid(uid).pw_name
    port = free_port()
    conf = root / "dovecot.conf"
    conf.write_text(_dovecot_config(root, port, uid, gid, user))
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        try:
            wait_for_port(port)
        except RuntimeError:
            process.terminate()
            _out, err = process.communicate(timeout=10)
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            raise RuntimeError(f"dovecot did not start: {err.decode()} {log}") from None
        yield ImapServer("127.0.0.1", port, "tester", "secret", root)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr:
            process.stderr.close()
        shutil.rmtree(root, ignore_errors=True)
