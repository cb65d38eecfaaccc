"""Clean text at the boundary: the annotated ``str`` types every request field uses.

Key contracts:

- ``SingleLineText`` refuses every C0 control character (U+0000..U+001F, NUL, tab and
  newline included), DEL, every C1 control (U+0080..U+009F), lone surrogates
  (U+D800..U+DFFF), U+FFFD (the mark of text that failed to decode somewhere upstream)
  and the non-characters U+FFFE/U+FFFF. ``MultiLineText`` refuses the same except
  tab, line feed and carriage return (descriptions, notes, mail bodies).
- Both normalise to Unicode **NFC** after the check, so one title typed on two
  keyboards ("é" as one code point or as "e" plus a combining accent) is stored,
  compared and deduplicated as one string. ``VerbatimText`` refuses the same
  characters but keeps the text as sent: passwords, tokens and keys are compared
  byte for byte, and re-normalising them would lock out whoever chose one before.
- The refusal is a pydantic error of type ``invalid_text`` naming the character and
  its position, so a 422 problem names the field (``body.title``) and the reason.
- The JSON schema of each type carries the rule as a ``pattern`` (unless the field
  states a stricter pattern of its own), so the OpenAPI document says what the
  server enforces; the one part it leaves out is lone surrogates (see ``_STATED``),
  which only a JSON escape can carry. Length limits go into
  ``CleanText(max_length=...)`` itself (see its docstring for why not into a
  ``Field`` beside it).

``check_text`` is the same rule as a plain function, for boundaries without pydantic
(the CLI, importers).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

__all__ = [
    "MULTI_LINE_PATTERN",
    "NOT_BLANK_PATTERN",
    "SINGLE_LINE_PATTERN",
    "CleanText",
    "MultiLineText",
    "SingleLineText",
    "VerbatimText",
    "check_text",
    "find_invalid_character",
]

# Lone surrogates are refused in Python but left out of the stated pattern: in an
# ECMA-262 pattern without the `u` flag a surrogate range matches the halves of every
# astral character (an emoji would look refused), and schema-driven generators such as
# schemathesis drop a pattern they cannot translate, so the rule would be stated for
# nobody. Well-formed UTF-8 cannot carry a lone surrogate; only a JSON \u escape can.
_STATED = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\ufffd\\ufffe\\uffff"
_REFUSED_ALWAYS = f"{_STATED}\\ud800-\\udfff"
SINGLE_LINE_PATTERN = f"^[^{_STATED}\\x09\\x0a\\x0d]*$"
"""The single-line rule as an ECMA-262 pattern (what the OpenAPI document states)."""
MULTI_LINE_PATTERN = f"^[^{_STATED}]*$"
"""The multi-line rule as an ECMA-262 pattern: tab, LF and CR allowed."""
_ONE_LINE_CLASS = f"{_STATED}\\x09\\x0a\\x0d"
NOT_BLANK_PATTERN = f"^[^{_ONE_LINE_CLASS}]*[^{_ONE_LINE_CLASS}\\s][^{_ONE_LINE_CLASS}]*$"
"""The single-line rule plus "not only whitespace": what ``CleanText(not_blank=True)`` states."""

_SINGLE_LINE = re.compile(f"[{_REFUSED_ALWAYS}\\x09\\x0a\\x0d]")
_MULTI_LINE = re.compile(f"[{_REFUSED_ALWAYS}]")


def find_invalid_character(text: str, *, multiline: bool = False) -> tuple[int, str] | None:
    """The position and character of the first character the rule refuses, or None."""
    found = (_MULTI_LINE if multiline else _SINGLE_LINE).search(text)
    return None if found is None else (found.start(), found.group())


def _describe(position: int, character: str) -> str:
    name = unicodedata.name(character, "control character")
    return f"U+{ord(character):04X} ({name.lower()}) at position {position}"


def check_text(text: str, *, multiline: bool = False, normalise: bool = True) -> str:
    """``text`` in NFC (unless ``normalise`` is false); ``ValueError`` if it holds a refused character."""
    found = find_invalid_character(text, multiline=multiline)
    if found is not None:
        raise ValueError(f"text may not contain {_describe(*found)}")
    return unicodedata.normalize("NFC", text) if normalise else text


@dataclass(frozen=True)
class CleanText:
    """Pydantic metadata for a ``str`` field: the text rule, NFC, and the field's length and pattern.

    Use it as ``Annotated[str, CleanText(max_length=500)]`` (or the aliases below). The
    length and pattern constraints belong here, not in a ``Field`` beside it: pydantic
    applies a ``Field``'s string constraints to a validated type with generic messages
    ("at most 5 items"), while here they go on the ``str`` itself and keep theirs.
    A ``pattern`` given here replaces the rule's pattern in the JSON schema (the
    character check still runs); it must suit pydantic's regex engine, which cannot
    name surrogates (so the rule itself is checked in Python, not as a pattern).
    ``not_blank`` refuses text that is only whitespace (``blank_text``).
    """

    multiline: bool = False
    normalise: bool = True
    not_blank: bool = False
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None

    def validate(self, text: str) -> str:
        """``text`` normalised as configured; a pydantic ``invalid_text`` error naming the character."""
        found = find_invalid_character(text, multiline=self.multiline)
        if found is not None:
            raise PydanticCustomError(
                "invalid_text",
                "text may not contain {character}",
                {"character": _describe(*found)},
            )
        if self.not_blank and not text.strip():
            raise PydanticCustomError("blank_text", "must not be blank")
        return unicodedata.normalize("NFC", text) if self.normalise else text

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """The ``str`` schema with this field's constraints, then the character check.

        Validators placed before this one (``BeforeValidator``: an e-mail lower-cased on
        the way in) wrap the ``str`` schema; the constraints go on the ``str`` inside.
        """
        return core_schema.no_info_after_validator_function(self.validate, self._constrained(handler(source)))

    def _constrained(self, schema: core_schema.CoreSchema) -> core_schema.CoreSchema:
        if schema["type"] == "str":
            return core_schema.str_schema(
                min_length=self.min_length,
                max_length=self.max_length,
                pattern=self.pattern,
                strict=schema.get("strict"),
                metadata=schema.get("metadata"),
            )
        if schema["type"] in {"function-before", "function-after", "function-wrap"}:
            wrapper = dict(schema)
            wrapper["schema"] = self._constrained(schema["schema"])
            return wrapper
        raise TypeError(f"CleanText applies to str, not to a {schema['type']} schema")

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The string's schema with the rule as its ``pattern`` (a field's own pattern wins)."""
        json_schema = handler(schema)
        if self.multiline:
            rule = MULTI_LINE_PATTERN
        else:
            rule = NOT_BLANK_PATTERN if self.not_blank else SINGLE_LINE_PATTERN
        json_schema.setdefault("pattern", rule)
        return json_schema


SingleLineText = Annotated[str, CleanText()]
"""A one-line text (names, titles, filters): no control characters at all; NFC."""
MultiLineText = Annotated[str, CleanText(multiline=True)]
"""Free text over several lines (descriptions, notes): tab, LF and CR allowed; NFC."""
VerbatimText = Annotated[str, CleanText(normalise=False)]
"""A secret or token: refused like ``SingleLineText`` but kept exactly as sent."""
