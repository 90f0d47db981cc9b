"""My Number (個人番号): 12 digits, the 12th a check digit over the first 11."""
from __future__ import annotations

LENGTH = 12


def check_digit(first_eleven: str) -> int:
    """Weights 2..7 repeat from the rightmost of the 11 digits; r = sum mod 11;
    the check digit is 0 when r <= 1, else 11 - r."""
    if len(first_eleven) != LENGTH - 1 or not _ascii_digits(first_eleven):
        raise ValueError("the check digit is computed over 11 ASCII digits")
    total = sum(int(digit) * (position % 6 + 2)
                for position, digit in enumerate(reversed(first_eleven)))
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_valid(number: str) -> bool:
    return (len(number) == LENGTH and _ascii_digits(number)
            and check_digit(number[:-1]) == int(number[-1]))


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()
