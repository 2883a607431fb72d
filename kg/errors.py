"""Error-code registry: every user-facing failure has a stable code and a one-line message.

Codes let users search docs and let tests assert the *kind* of failure without matching prose.
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    EMPTY = "E101"  # file has no bytes or only whitespace
    BINARY = "E102"  # file is binary, not text
    UNDECODABLE = "E103"  # no supported encoding decodes the bytes
    UNSUPPORTED = "E104"  # file extension not handled
    NO_TEXT_LAYER = "E105"  # PDF without extractable text
    CORRUPT = "E106"  # PDF/DOCX container cannot be opened
    NOT_A_REPORT = "E107"  # decodes fine but is not a government work report
    TOO_LARGE = "E108"  # above the configured size limit
    UNREADABLE = "E109"  # missing file, permission denied, vanished mid-run
    STORE = "E201"  # a graph or RDF store refused or is unreachable
    QUERY = "E301"  # a query is malformed, or would modify data without --update
    NOT_YET = "E901"  # command planned but not implemented yet


class TownKGError(Exception):
    """An expected, explainable failure; the CLI prints `str(err)` on one line, never a traceback."""

    def __init__(self, code: Code, message: str, path: str | None = None) -> None:
        self.code = code
        self.path = path
        self.message = message
        super().__init__(f"{path + ': ' if path else ''}{message} [{code.value}]")
