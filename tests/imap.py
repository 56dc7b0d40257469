"""A real IMAP server for the bounce mailbox's tests: Debian's Dovecot, configured in a temporary
folder (one user, plain login on 127.0.0.1, Maildir), run in the foreground and stopped after."""

from __future__ import annotations

import getpass
import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.services import free_port, wait_until

USER = "bounces"
PASSWORD = "a-mailbox-password"


@dataclass(frozen=True)
class Mailbox:
    port: int
    url: str

    def _connect(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(USER, PASSWORD)
        imap.select("INBOX")
        return imap

    def deliver(self, raw: bytes) -> None:
        """Put a message in the mailbox, as the mail server that received a bounce does."""
        imap = self._connect()
        try:
            status, _ = imap.append("INBOX", None, None, raw)
            assert status == "OK"
        finally:
            imap.logout()

    def flags(self) -> list[set[str]]:
        """Each message's flags, in the mailbox's order."""
        imap = self._connect()
        try:
            status, data = imap.fetch("1:*", "(FLAGS)")
        finally:
            imap.logout()
        if status != "OK" or data == [None]:
            return []
        found = []
        for item in data:
            line = item.decode() if isinstance(item, bytes) else item[0].decode()
            inside = line.split("FLAGS (", 1)[1].split(")", 1)[0]
            found.append(set(inside.split()))
        return found


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            return sock.recv(64).startswith(b"* OK")
    except OSError:
        return False


@contextmanager
def dovecot_serving() -> Iterator[Mailbox]:
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    # Under /tmp rather than pytest's tmp_path: the mail processes run as an unprivileged user,
    # who must be able to reach the folder (pytest's are private to the user running them).
    root = Path(tempfile.mkdtemp(prefix="cosign-dovecot-"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        # Dovecot refuses to access mail as root.
        user, group = "nobody", grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
        internal = ""
    else:
        user = getpass.getuser()
        group = grp.getgrgid(os.getgid()).gr_name
        internal = f"default_internal_user = {user}\ndefault_login_user = {user}\n"
    (root / "run").mkdir()
    (root / "mail").mkdir()
    shutil.chown(root / "mail", user, group)
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    port = free_port()
    (root / "dovecot.conf").write_text(
        f"""base_dir = {root}/run
state_dir = {root}/run
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
mail_uid = {user}
mail_gid = {group}
first_valid_uid = 1
log_path = {root}/dovecot.log
{internal}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""
    )
    process = subprocess.Popen(
        [binary, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(
            lambda: _answers(port) or process.poll() is not None,
            timeout=30,
            what="Dovecot to answer",
        )
        assert process.poll() is None, (root / "dovecot.log").read_text(errors="replace")
        yield Mailbox(port=port, url=f"imap://{USER}:{PASSWORD}@127.0.0.1:{port}/INBOX")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)
