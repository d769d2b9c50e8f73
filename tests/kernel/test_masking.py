"""Masking of personal identifiers in lists."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tongban.kernel.masking import mask_id_number, mask_name, mask_phone


def test_an_id_number_shows_its_first_and_last_four_characters():
    assert mask_id_number("110101199003071234") == "1101**********1234"
    assert mask_id_number("11010119900307123X") == "1101**********123X"


@given(st.text(min_size=9, max_size=40))
def test_a_masked_id_number_keeps_its_length_and_hides_the_middle(value):
    masked = mask_id_number(value)

    assert len(masked) == len(value)
    assert masked[:4] == value[:4] and masked[-4:] == value[-4:]
    assert set(masked[4:-4]) == {"*"}


@given(st.text(max_size=8))
def test_a_short_identifier_is_hidden_entirely(value):
    assert mask_id_number(value) == "*" * len(value)


def test_a_name_shows_only_its_first_character():
    assert mask_name("张三丰") == "张**"
    assert mask_name("李") == "李"
    assert mask_name("") == ""


def test_a_phone_shows_its_first_three_and_last_four_digits():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("1234567") == "*******"


@given(st.text(alphabet="0123456789", min_size=8, max_size=15))
def test_a_masked_phone_never_shows_the_middle(value):
    masked = mask_phone(value)

    assert len(masked) == len(value)
    assert masked[:3] == value[:3] and masked[-4:] == value[-4:]
    assert set(masked[3:-4]) == {"*"}
