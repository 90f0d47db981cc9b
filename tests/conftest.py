"""Shared pytest set-up: each device kind keeps its fixtures in tests/fixtures/."""
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

pytest_plugins = [
    "tests.fixtures.cards",
    "tests.fixtures.pcsc",
    "tests.fixtures.cups",
    "tests.fixtures.stub",
    "tests.fixtures.load",
    "tests.fixtures.receipt_printer",
]
