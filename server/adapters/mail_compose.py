"""The ``Composer`` port (PROTOCOL.md section 15): mails written from Jinja2 templates into the
standard library's ``EmailMessage``.

Each mail is multipart/alternative: a plain-text part (``<name>.txt``) and an HTML part
(``<name>.html``, autoescaped: a message body is always text, never markup), from the templates in
``server/adapters/mail_templates/`` (package data, next to the adapter that renders them: they are
the mails' wording, not the web page's). ``From`` is ``PARLEY_SMTP_FROM``. A digest carries
``List-Unsubscribe: <link>`` and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058)
and the same link in both parts; the verification mail has neither (it was asked for).

Headers are written with lines of up to 998 characters (RFC 5322's limit) rather than folded at
78: a folded ``List-Unsubscribe`` link would reach some clients broken.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from server.chat.notifications.mail import Digest

TEMPLATES = Path(__file__).resolve().parent / "mail_templates"
POLICY = policy.SMTP.clone(max_line_length=998)
PRODUCT = "Parley"


class TemplateComposer:
    def __init__(self, sender: str, base_url: str) -> None:
        self.sender = sender
        self.base_url = base_url.rstrip("/")
        self._env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
        domain = parseaddr(sender)[1].rpartition("@")[2]
        self._domain = domain or "localhost"

    def verification(self, to: str, username: str, link: str) -> str:
        values = {"product": PRODUCT, "username": username, "address": to, "link": link}
        message = self._message(to, f"Verify your email address for {PRODUCT}", "verify", values)
        return message.as_string()

    def password_reset(self, to: str, username: str, link: str, minutes: int) -> str:
        values = {"product": PRODUCT, "username": username, "link": link, "minutes": minutes}
        return self._message(to, f"Set a new password for {PRODUCT}", "password_reset", values).as_string()

    def invitation(
        self, to: str, inviter: str, link: str, expires_at: datetime, username: str | None = None
    ) -> str:
        values = {
            "product": PRODUCT,
            "inviter": inviter,
            "link": link,
            "expires": expires_at.strftime("%Y-%m-%d %H:%M UTC"),
            "username": username,
        }
        return self._message(to, f"{inviter} invites you to {PRODUCT}", "invite", values).as_string()

    def digest(self, to: str, digest: Digest) -> str:
        count = sum(len(group.items) for group in digest.groups) + digest.more
        subject = f"{count} unread message{'s' if count != 1 else ''} on {PRODUCT}"
        message = self._message(to, subject, "digest", {"product": PRODUCT, "digest": digest, "count": count})
        message["List-Unsubscribe"] = f"<{digest.unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return message.as_string()

    def _message(self, to: str, subject: str, name: str, values: Mapping[str, object]) -> EmailMessage:
        message = EmailMessage(policy=POLICY)
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain=self._domain)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
        message.set_content(self._env.get_template(f"{name}.txt").render(values))
        message.add_alternative(self._env.get_template(f"{name}.html").render(values), subtype="html")
        return message
