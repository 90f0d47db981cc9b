"""How long rendering each certificate type takes, in ms per page and per certificate.

    .venv/bin/python -m benchmarks.render_bench [--runs 50]

One process, one thread, warm (the font registered, its metrics cached and the
copy-evident background built by a first render, as in a long-running issuance
server; the first render's cost is printed too, and the background's own). Each
certificate gets a different verification code, as real issuances do, so the QR
symbol is built every time. The records are the fictional ones the tests use.

Times are this thread's CPU time, so other work on a shared machine does not inflate
them; for single-threaded rendering on an idle machine they equal wall time. A sheet
is a front page and its back (printed duplex): pages = 2 × sheets.
"""
from __future__ import annotations

import argparse
import statistics
import time
import unicodedata
from io import BytesIO

from pypdf import PdfReader

from printouts import anti_copy
from printouts import fictional_records as fictional
from printouts.certificate_page import FRONT_KNOCKOUTS
from printouts.certificates import render_certificate
from printouts.records import Certificate
from printouts.verification_qr import qr_symbol

CASES: dict[str, Certificate] = {
    "住民票の写し, 3 members": fictional.residence_record(),
    "住民票の写し, 12 members, every option": fictional.residence_record(members=fictional.large_household(12)),
    "印鑑登録証明書": fictional.seal_certificate(),
    "課税・所得証明書": fictional.tax_certificate(),
    "戸籍全部事項証明書, 2 persons": fictional.family_register(),
    "戸籍全部事項証明書, 6 persons x 4 events": fictional.large_family_register(6, 4),
    "戸籍の附票の写し": fictional.register_annex(),
}


def _pad(text: str, width: int) -> str:
    """Left-aligned in `width` terminal columns; a kanji takes two."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - columns)


def _time_ms(action, runs: int) -> float:
    """Median of `runs` timings of action(i), in ms."""
    timings = []
    for i in range(runs):
        start = time.thread_time()
        action(i)
        timings.append((time.thread_time() - start) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    codes = [fictional.verification_code(f"bench-{i}") for i in range(runs)]

    start = time.thread_time()
    render_certificate(fictional.seal_certificate(), codes[0])
    print(f"first render in this process (font registration and backgrounds included): "
          f"{(time.thread_time() - start) * 1000:.1f} ms")
    anti_copy.background.cache_clear()
    start = time.thread_time()
    operators = anti_copy.background(FRONT_KNOCKOUTS)
    print(f"of which a background, built once and reused: {(time.thread_time() - start) * 1000:.1f} ms, "
          f"{len(operators) / 1024:.0f} KiB of operators written into each page")
    print(f"QR symbol alone (zxing-cpp, once per certificate): {_time_ms(lambda i: qr_symbol(codes[i]), runs):.2f} ms")
    print(f"\n{_pad('certificate', 44)}{'pages':>6}{'ms/cert':>10}{'ms/page':>10}{'ms/sheet':>10}")
    for name, record in CASES.items():
        pages = len(PdfReader(BytesIO(render_certificate(record, codes[0]))).pages)
        per_certificate = _time_ms(lambda i: render_certificate(record, codes[i]), runs)
        print(f"{_pad(name, 44)}{pages:>6}{per_certificate:>10.1f}{per_certificate / pages:>10.1f}"
              f"{2 * per_certificate / pages:>10.1f}")
    print(f"\nmedian of {runs} runs each, one thread, CPU time")


if __name__ == "__main__":
    main()
