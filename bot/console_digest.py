"""The console's ``/digest <file>``: a digest of a chat file (``[time] author: message`` lines).

The digest engine offline, with no Discord: the file is read and parsed on the worker gate, the
digest comes from the same :class:`core.digest.DigestService` the bot uses (the console is its own
tenant), and each item points back to the lines it came from (``#12`` is line 12).
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from core.digest.chatlog import parse_chat_lines
from core.digest.models import ChatMessage, Digest
from core.digest.render import digest_sections, digest_summary_line
from core.errors import InputError
from core.inputs import decode_text_bytes

__all__ = ["MAX_CHAT_FILE_BYTES", "read_chat_file", "render_digest"]

MAX_CHAT_FILE_BYTES = 20 * 1024 * 1024


def read_chat_file(target: str) -> list[ChatMessage]:
    """The messages of the chat file ``target`` names.  Blocking: run it through the gate."""
    candidate = target.strip().strip("\"'")
    if not candidate:
        raise InputError("Name a chat file, e.g. /digest samples/team_chat.txt")
    path = Path(candidate).expanduser()
    try:
        size = path.stat().st_size
        if size > MAX_CHAT_FILE_BYTES:
            raise InputError(f"{candidate} is {size:,} bytes; a chat file may have at most {MAX_CHAT_FILE_BYTES:,}.")
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"Cannot read {candidate}: no such file.") from None
    except OSError as exc:
        raise InputError(f"Cannot read {candidate}: {exc.strerror or type(exc).__name__}.") from exc
    return parse_chat_lines(decode_text_bytes(data, filename=path.name))


def render_digest(digest: Digest, *, source: str) -> RenderableType:
    """A panel with the figures, then each section with ``#line`` references."""
    parts: list[RenderableType] = [Panel(Text(digest_summary_line(digest)), title=Text(f"Digest of {source}"))]
    if digest.empty:
        parts.append(Text("Nothing stood out: no topics, decisions, questions or links.", style="dim"))
    for section in digest_sections(digest, link=lambda message_id, _: f"#{message_id}"):
        parts.append(Text(section.title, style="bold"))
        parts.extend(Text(f"  • {line.replace('**', '')}") for line in section.lines)
    return Group(*parts)
