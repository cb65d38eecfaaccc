"""The shared text rule: which characters every request field refuses, and NFC."""

from __future__ import annotations

import re
from typing import Annotated

import pytest
from pydantic import BaseModel, BeforeValidator, ValidationError

from folio.core.text import (
    MULTI_LINE_PATTERN,
    NOT_BLANK_PATTERN,
    SINGLE_LINE_PATTERN,
    CleanText,
    MultiLineText,
    SingleLineText,
    VerbatimText,
    check_text,
)

pytestmark = pytest.mark.unit

REFUSED_EVERYWHERE = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\x9f", "\ufffd", "\uffff"]
LINE_BREAKS = ["\n", "\r", "\t"]


class Form(BaseModel):
    """A request body using each flavour."""

    name: Annotated[str, CleanText(min_length=1, max_length=5)]
    notes: MultiLineText = ""
    password: VerbatimText = ""
    tags: list[SingleLineText] = []


def _error_types(data: dict[str, object]) -> dict[tuple[str | int, ...], str]:
    with pytest.raises(ValidationError) as caught:
        Form.model_validate(data)
    return {tuple(error["loc"]): error["type"] for error in caught.value.errors()}


@pytest.mark.parametrize("character", REFUSED_EVERYWHERE + LINE_BREAKS)
def test_single_line_fields_refuse_control_characters(character: str) -> None:
    """A one-line field refuses C0/C1 controls, DEL, U+FFFD, non-characters and line breaks."""
    assert _error_types({"name": f"a{character}b"}) == {("name",): "invalid_text"}


@pytest.mark.parametrize("character", REFUSED_EVERYWHERE)
def test_multi_line_fields_refuse_controls_but_not_line_breaks(character: str) -> None:
    """A multi-line field refuses the same controls and keeps tab, LF and CR."""
    assert _error_types({"name": "ok", "notes": f"a{character}b"}) == {("notes",): "invalid_text"}
    assert Form.model_validate({"name": "ok", "notes": "one\n\ttwo\r\n"}).notes == "one\n\ttwo\r\n"


def test_list_items_are_checked_one_by_one() -> None:
    """Each item of a list of texts is checked, and the error names its index."""
    assert _error_types({"name": "ok", "tags": ["fine", "\x1b[31m"]}) == {("tags", 1): "invalid_text"}


def test_the_error_names_the_character_and_its_position() -> None:
    """The message says which character was refused and where, so a client can fix it."""
    with pytest.raises(ValidationError, match=r"U\+001B .* at position 1"):
        Form.model_validate({"name": "a\x1b"})


def test_text_is_stored_in_nfc_except_verbatim_fields() -> None:
    """Decomposed input is normalised to NFC; a verbatim field (a password) is kept as sent."""
    decomposed = "e\u0301"
    form = Form.model_validate({"name": decomposed, "password": decomposed})
    assert form.name == "\u00e9"
    assert form.password == decomposed


def test_length_constraints_keep_their_own_messages() -> None:
    """Lengths given to CleanText are checked on the string, with pydantic's usual error types."""
    assert _error_types({"name": "toolong"}) == {("name",): "string_too_long"}
    assert _error_types({"name": ""}) == {("name",): "string_too_short"}


def test_the_json_schema_states_the_rule() -> None:
    """The OpenAPI document shows the pattern the server enforces, per flavour."""
    properties = Form.model_json_schema()["properties"]
    assert properties["name"]["pattern"] == SINGLE_LINE_PATTERN
    assert properties["name"]["maxLength"] == 5
    assert properties["notes"]["pattern"] == MULTI_LINE_PATTERN
    assert properties["tags"]["items"]["pattern"] == SINGLE_LINE_PATTERN


@pytest.mark.parametrize("character", REFUSED_EVERYWHERE + LINE_BREAKS)
def test_the_stated_pattern_agrees_with_the_check(character: str) -> None:
    """What the schema's pattern refuses is what the server refuses (one-line and multi-line)."""
    single = re.compile(SINGLE_LINE_PATTERN)
    multi = re.compile(MULTI_LINE_PATTERN)
    assert single.fullmatch(f"a{character}") is None
    assert (multi.fullmatch(f"a{character}") is None) == (character not in LINE_BREAKS)
    assert single.fullmatch("Kön\u00efg Lear, 2e édition") is not None


def test_the_stated_pattern_names_no_surrogates_yet_lone_ones_are_refused() -> None:
    """No surrogate range in the stated patterns (ECMA would refuse emoji), yet the server refuses them."""
    for pattern in (SINGLE_LINE_PATTERN, MULTI_LINE_PATTERN, NOT_BLANK_PATTERN):
        assert "\\ud8" not in pattern
        assert "\\udf" not in pattern
    assert re.compile(SINGLE_LINE_PATTERN).fullmatch("Books \U0001f4da") is not None
    assert ("name",) in _error_types({"name": "a\ud800"})


def test_check_text_is_the_same_rule_without_pydantic() -> None:
    """The plain function (CLI, importers) refuses and normalises alike."""
    assert check_text("Ko\u0308nig") == "K\u00f6nig"
    with pytest.raises(ValueError, match="U\\+0001"):
        check_text("\x01junk")
    assert check_text("two\nlines", multiline=True) == "two\nlines"


def test_clean_text_refuses_non_string_types() -> None:
    """CleanText on a non-str annotation is a programming error found at class creation."""
    with pytest.raises(TypeError, match="applies to str"):

        class Wrong(BaseModel):
            number: Annotated[int, CleanText()]


class Titled(BaseModel):
    """A body whose title must not be blank."""

    title: Annotated[str, CleanText(not_blank=True, max_length=20)]


@pytest.mark.parametrize("blank", ["", " ", "   ", "\u00a0\u3000"])
def test_not_blank_refuses_whitespace_only_text(blank: str) -> None:
    """``not_blank`` refuses empty and whitespace-only text, and the schema's pattern says so."""
    with pytest.raises(ValidationError) as caught:
        Titled.model_validate({"title": blank})
    assert caught.value.errors()[0]["type"] == "blank_text"
    assert Titled.model_json_schema()["properties"]["title"]["pattern"] == NOT_BLANK_PATTERN
    assert Titled.model_validate({"title": " a "}).title == " a "


def test_a_before_validator_runs_first_and_constraints_still_apply() -> None:
    """With a ``BeforeValidator`` ahead (an e-mail lower-cased), lengths and the rule still hold."""

    class Mail(BaseModel):
        address: Annotated[str, BeforeValidator(str.lower), CleanText(max_length=6)]

    assert Mail.model_validate({"address": "A@B.C"}).address == "a@b.c"
    with pytest.raises(ValidationError, match="string_too_long"):
        Mail.model_validate({"address": "ABCDEFG"})
    with pytest.raises(ValidationError, match="invalid_text"):
        Mail.model_validate({"address": "A\x1b"})
