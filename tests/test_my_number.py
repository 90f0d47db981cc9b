"""The My Number check digit (weights 2..7 repeating from the right over 11 digits)."""
from __future__ import annotations

import pytest

from devices.card import my_number


# Worked by hand, digits read from the right with weights 2 3 4 5 6 7 2 3 4 5 6:
# 12345678901: 1*2+0*3+9*4+8*5+7*6+6*7+5*2+4*3+3*4+2*5+1*6 = 212; 212 mod 11 = 3 -> 11-3 = 8
# 98765432109: 9*2+0*3+1*4+2*5+3*6+4*7+5*2+6*3+7*4+8*5+9*6 = 228; 228 mod 11 = 8 -> 3
# 27182818284: 4*2+8*3+2*4+8*5+1*6+8*7+2*2+8*3+1*4+7*5+2*6 = 221; 221 mod 11 = 1 -> 0
# 00000000000: sum 0; remainder 0 -> 0
# 00000000001: 1*2 = 2 -> 11-2 = 9
# 00000000010: 1*3 = 3 -> 8
@pytest.mark.parametrize("first_eleven, check", [
    ("12345678901", 8), ("98765432109", 3), ("27182818284", 0), ("00000000000", 0),
    ("00000000001", 9), ("00000000010", 8),
])
def test_check_digit_known_vectors(first_eleven, check):
    assert my_number.check_digit(first_eleven) == check
    assert my_number.is_valid(first_eleven + str(check))


@pytest.mark.parametrize("number", ["123456789017", "12345678901", "1234567890188", "12345678901a",
                                    "１２３４５６７８９０１８", ""])
def test_invalid_numbers(number):
    assert not my_number.is_valid(number)


def test_check_digit_needs_eleven_ascii_digits():
    with pytest.raises(ValueError):
        my_number.check_digit("1234567890")
