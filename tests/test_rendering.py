"""The issuance center's certificate renderer processes: the same PDF as rendering in
process, and a renderer that dies does not take the service down with it."""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import time

from municipal.rendering import CertificateRenderer
from printouts import fictional_records as fictional
from printouts.certificates import render_certificate_pages

CODE = fictional.verification_code("rendering")


def test_renderer_processes_give_the_bytes_rendering_in_process_gives():
    records = [fictional.residence_record(), fictional.seal_certificate(), fictional.large_family_register(6, 4)]

    async def render_all():
        renderer = CertificateRenderer(2)
        await renderer.start()
        try:
            return await asyncio.gather(*(renderer.render(record, CODE) for record in records))
        finally:
            renderer.close()

    assert asyncio.run(render_all()) == [render_certificate_pages(record, CODE) for record in records]


def test_a_killed_renderer_is_replaced_and_the_certificate_still_rendered():
    record = fictional.tax_certificate()

    async def kill_one_then_render():
        renderer = CertificateRenderer(1)
        await renderer.start()
        try:
            (killed,) = multiprocessing.active_children()
            os.kill(killed.pid, signal.SIGKILL)
            killed.join(5)
            rendered = await renderer.render(record, CODE)
            return killed.pid, rendered, [w.pid for w in multiprocessing.active_children()]
        finally:
            renderer.close()

    killed, rendered, workers = asyncio.run(kill_one_then_render())
    assert rendered == render_certificate_pages(record, CODE)
    assert len(workers) == 1 and killed not in workers


def test_renderers_end_when_their_front_process_is_killed(tmp_path):
    """A stub killed outright (a crash, kill -9) leaves no renderer behind."""
    script = ("import asyncio, multiprocessing, sys\n"
              "from municipal.rendering import CertificateRenderer\n"
              "async def main():\n"
              "    renderer = CertificateRenderer(2)\n"
              "    await renderer.start()\n"
              "    print(' '.join(str(p.pid) for p in multiprocessing.active_children()), flush=True)\n"
              "    await asyncio.sleep(60)\n"
              "asyncio.run(main())\n")
    front = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    renderers = [int(pid) for pid in front.stdout.readline().split()]
    assert len(renderers) == 2
    front.kill()
    front.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in renderers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in renderers)


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for a parent that is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
