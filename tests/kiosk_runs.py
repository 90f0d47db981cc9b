"""Running the real `kiosk` command as a resident would meet it, and reading what it
left behind: exit status, screenshots, the screen transcript and printed PDFs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[1]
KIOSK = Path(sys.executable).with_name("kiosk")


@dataclass
class KioskRun:
    returncode: int
    out: Path
    output: str

    @property
    def screens(self) -> list[dict]:
        path = self.out / "transcript.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    @property
    def screen_names(self) -> list[str]:
        return [s["screen"] for s in self.screens]

    def text_of(self, screen: str) -> str:
        return "\n".join(" ".join([s["title"], *s["lines"], s["warning"] or ""])
                         for s in self.screens if s["screen"] == screen)

    def printed(self) -> list[Path]:
        return sorted((self.out / "printed").glob("*.pdf"))


def run_kiosk(*args: str, out: Path, timeout: float = 120) -> KioskRun:
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    env.pop("DISPLAY", None)
    proc = subprocess.run([str(KIOSK), *args, "--out", str(out)], cwd=ROOT, env=env, timeout=timeout,
                          capture_output=True, text=True)
    return KioskRun(proc.returncode, out, proc.stdout + proc.stderr)


def pdf_text(path: Path) -> str:
    """The printed file's text with whitespace dropped (spaced-out titles, split runs)."""
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return "".join(text.split())


def pdf_text_of_bytes(pdf: bytes) -> str:
    """All pages' text with whitespace dropped: extractors space Japanese runs unpredictably."""
    reader = PdfReader(BytesIO(pdf))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)
