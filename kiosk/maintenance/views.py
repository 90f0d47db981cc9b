"""What maintenance mode shows: Views for the resident screens' Renderer, in the
staff's language. Each screen keeps to what that Renderer lays out without overlap:
text lines, or up to three wide tiles, and up to four buttons along the bottom."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from kiosk.i18n import LANGUAGES, N_
from kiosk.maintenance.history import Fault
from kiosk.maintenance.staff_pin import MAX_DIGITS, MIN_DIGITS
from kiosk.maintenance.text import translate, translate_in
from kiosk.screens import Button, View
from printouts.receipt import JST, yen

if TYPE_CHECKING:
    from kiosk.maintenance.mode import MaintenanceMode, Outcome

CHECK_NAMES = {
    "card_reader": N_("Card reader"),
    "card": N_("Card on the reader"),
    "document_printer": N_("Document printer"),
    "receipt_printer": N_("Receipt printer"),
    "payment": N_("Payment device"),
    "issuance_center": N_("Issuance center"),
    "clock": N_("Clock"),
    "journal": N_("Journal"),
}

JOBS = {
    "recheck": N_("Checking the devices"),
    "test_print": N_("Test print"),
    "paper_refilled": N_("Paper refilled"),
    "collect_cash": N_("Collect cash"),
    "restart": N_("Restart the application"),
    "shutdown": N_("Shut down"),
    "out_of_service": N_("Out of service"),
    "back_in_service": N_("Back in service"),
}

REASONS = {
    "printer": N_("Printer out of order"),
    "payment": N_("Cash machine out of order"),
    "card_reader": N_("Card reader out of order"),
    "maintenance_work": N_("Maintenance work"),
}

# The kiosk's own fault codes, in plain words for staff.
FAULTS = {
    "reader_lost": N_("The card reader was disconnected (or its service stopped)."),
    "reader": N_("The card reader could not be used."),
    "card_error": N_("A card could not be read. If this repeats, check the reader."),
    "service_unreachable": N_("The issuance center could not be reached."),
    "internal_error": N_("A request could not be finished (internal error)."),
    "payment_unavailable": N_("The payment device did not answer."),
    "payment_jammed": N_("A coin or note is jammed in the payment device."),
    "payment_lost": N_("The payment device stopped answering during a payment."),
    "change_short": N_("Not enough change in the hoppers."),
    "change_owed": N_("Change could not be paid out: ¥{owed:,} is owed to a resident."),
}
PRINTER_FAULT = N_("The document printer failed: {detail}.")
PRINTER_REASONS = {  # PrinterError.reason
    "printer_error": N_("printer error"),
    "printer_unavailable": N_("not available (queue stopped or folder not writable)"),
    "job_failed": N_("the job failed"),
    "job_cancelled": N_("the job was cancelled"),
    "job_timed_out": N_("the job took too long and was cancelled"),
    "paper_out": N_("out of paper"),
}
BINDING_FAULT = N_("A document from the center failed the kiosk's check and was not printed.")
OWED = N_("¥{owed:,} is owed to a resident.")


def build_view(mode: MaintenanceMode, now: float) -> View:
    screens = _Screens(mode, now)
    view = getattr(screens, mode.screen.value)()
    other = "en" if mode.language == "ja" else "ja"  # staff screens come in these two
    view.buttons.append(Button(f"lang:{other}", LANGUAGES[other], "header"))
    return view


class _Screens:
    def __init__(self, mode: MaintenanceMode, now: float):
        self.m, self.now = mode, now

    def _(self, text: str, **values) -> str:
        return translate(self.m.language, text, **values)

    def _p(self, context: str, text: str) -> str:
        return translate_in(self.m.language, context, text)

    def exit(self) -> Button:
        return Button("exit", self._("Exit"), "secondary")

    def pin(self) -> View:
        _, m, pad = self._, self.m, self.m.sign_in
        lines = [_("Staff only. Enter the staff PIN ({low} to {high} digits).", low=MIN_DIGITS, high=MAX_DIGITS),
                 _("Digits entered: {n}", n=len(pad.pin))]
        warning = None
        if pad.locked_until is not None and pad.wall() < pad.locked_until:
            # Kept in real seconds (it outlasts restarts), shown on the kiosk's clock like "Now".
            until = dt.datetime.fromtimestamp(pad.locked_until, JST) + m.machine.clock.offset
            warning = _("Too many wrong PINs. Try again after {time}.", time=f"{until:%H:%M}")
        elif pad.wrong:
            warning = _("Wrong PIN. Tries left: {n}", n=pad.tries_left)
        elif m.notice is not None and m.notice.problem:
            warning = self.notice_text(m.notice)
        keys = [Button(f"digit:{d}", str(d), "key") for d in (1, 2, 3, 4, 5, 6, 7, 8, 9)]
        keys += [Button("clear", _("Clear"), "key"), Button("digit:0", "0", "key"), Button("ok", _("OK"), "key")]
        return View("maintenance-pin", _("Staff sign-in"), lines, keys + [Button("cancel", _("Cancel"), "secondary")],
                    warning=warning, keypad=True, pin_filled=len(pad.pin), spinner=pad.verifying)

    def status(self) -> View:
        _, m = self._, self.m
        lines = []
        if m.machine.out_of_service:
            lines.append(_("Out of service: {reason}", reason=_(REASONS.get(m.machine.out_of_service,
                                                                             m.machine.out_of_service))))
        for check in m.checks or []:
            detail = check.detail
            if check.name == "document_printer" and m.summary.paper_left is not None:
                detail = _("{sheets} sheets left", sheets=m.summary.paper_left) + "; " + detail
            mark = "○" if check.ok else "×"
            state = self._p("device", "OK") if check.ok else _("Problem")
            lines.append(f"{mark} {_(CHECK_NAMES.get(check.name, check.name))} ({state}): {detail}")
        # Busy until both the re-check and the summary (sheets left) are in, and says which;
        # "Checked at" only once the screen is whole.
        if m.busy == "recheck":
            lines.append(_("Checking the devices…"))
        elif m.summary_pending:
            lines.append(_("Reading today's records…"))
        elif m.checked_at is not None:
            lines.append(_("Checked at {time}. Now {now}.", time=f"{m.checked_at:%H:%M:%S}",
                           now=f"{m.machine.clock.now():%Y-%m-%d %H:%M}"))
        return View("maintenance-status", _("Maintenance: devices"), lines,
                    [Button("recheck", _("Check again"), "secondary"), Button("goto:today", _("Today"), "secondary"),
                     Button("goto:actions", _("Actions")), self.exit()],
                    spinner=m.loading, alert=any(not c.ok for c in m.checks or []))

    def today(self) -> View:
        _, s = self._, self.m.summary
        totals = s.day_totals
        lines = [_("Sessions: {n}", n=s.sessions)]
        if s.journal_problem:
            lines.append(_("The journal cannot be read: {error}", error=s.journal_problem))
        else:
            lines += [_("Certificates printed: {n}", n=totals.get("documents", 0)),
                      _("Fees taken: {amount}", amount=yen(totals.get("fees_yen", 0))),
                      _("Refunds: {amount}", amount=yen(totals.get("refunds_yen", 0)))]
        lines.append(_("Faults: {n}", n=s.faults_today))
        if s.recent_faults:
            lines.append(_("Latest faults:"))
            lines += [f"{f.at:%m-%d %H:%M} {self.fault_text(f)}" for f in s.recent_faults[:3]]
        return View("maintenance-today", _("Maintenance: today"), lines,
                    [Button("goto:status", _("Devices"), "secondary"), Button("goto:actions", _("Actions")),
                     self.exit()], spinner=self.m.summary_pending > 0)

    def fault_text(self, fault: Fault) -> str:
        _, code = self._, fault.code
        if code in FAULTS:
            text = _(FAULTS[code], owed=fault.owed_yen)
        elif code.startswith("printer_"):
            reason = code.removeprefix("printer_")
            text = _(PRINTER_FAULT, detail=_(PRINTER_REASONS.get(reason, reason.replace("_", " "))))
        elif code.startswith("binding_"):
            text = _(BINDING_FAULT)
        else:
            text = _("Fault: {code}", code=code)
        if fault.owed_yen and code != "change_owed":
            text += " " + _(OWED, owed=fault.owed_yen)
        return text

    def actions(self) -> View:
        _, m = self._, self.m
        state = (_("Out of service: {reason}", reason=_(REASONS.get(m.machine.out_of_service, "")))
                 if m.machine.out_of_service else _("In service"))
        return View("maintenance-actions", _("Actions") + " — " + state, [],
                    [Button("test_print", _("Test print"), "choice"),
                     Button("paper_refilled", _("Paper refilled ({sheets} sheets)",
                                                sheets=m.config.paper_tray_sheets), "choice"),
                     Button("goto:collect", _("Collect cash"), "choice"),
                     Button("goto:service", _("Out of service…"), "secondary"),
                     Button("restart", _("Restart"), "secondary"), Button("shutdown", _("Shut down"), "secondary"),
                     Button("goto:status", _("Back"), "secondary")])

    def collect(self) -> View:
        _, m = self._, self.m
        cash = m.summary.cash
        total = sum(value * count for value, count in cash.items())
        taken = ", ".join(f"{yen(value)} × {cash[value]}" for value in sorted(cash, reverse=True))
        lines = [_("Taken in since the last collection:"), taken or _("nothing"),
                 _("Total: {amount}", amount=yen(total)),
                 _("Take the cash out, then print the slip. The count starts again from zero.")]
        return View("maintenance-collect", _("Collect cash"), lines,
                    [Button("collect_cash", _("Print slip and reset")), Button("goto:actions", _("Back"), "secondary")],
                    spinner=m.summary_pending > 0)

    def service(self) -> View:
        _, m = self._, self.m
        current = m.machine.out_of_service
        title = (_("Out of service: {reason}", reason=_(REASONS.get(current, current))) if current
                 else _("In service"))
        # The reason in force is ticked; touching another one replaces it.
        buttons = [Button(f"out_of_service:{code}", _(label), "check", checked=code == current)
                   for code, label in REASONS.items()]
        if current:
            buttons.append(Button("back_in_service", _("Back in service")))
            line = _("Residents see that the kiosk is out of service until you touch Back in service.")
        else:
            line = _("Touch the reason to take the kiosk out of service.")
        buttons.append(Button("goto:actions", _("Back"), "secondary"))
        return View("maintenance-service", title, [line], buttons)

    def confirm(self) -> View:
        _ = self._
        if self.m.confirming == "restart":
            title = _("Restart the kiosk application?")
            line = _("The kiosk application stops and starts again (about 20 seconds).")
        else:
            title = _("Turn the kiosk off?")
            line = _("The kiosk turns off. Turn it on again with its power switch.")
        return View("maintenance-confirm", title, [line],
                    [Button("yes", _("Yes")), Button("no", _("No"), "secondary")])

    def working(self) -> View:
        _, m = self._, self.m
        return View("maintenance-working", _(JOBS.get(m.busy, m.busy or "")), [_("Please wait.")],
                    [Button("goto:actions", _("Back"), "secondary")], spinner=True)

    def notice_text(self, outcome: Outcome) -> str:
        values = {k: self._(v) if isinstance(v, str) else v for k, v in outcome.values.items()}
        return self._(outcome.notice, **values)

    def result(self) -> View:
        _, outcome = self._, self.m.notice
        text = self.notice_text(outcome)
        return View("maintenance-result", _(JOBS.get(outcome.job, outcome.job)),
                    [] if outcome.problem else [text], [Button("goto:actions", _("Close"))],
                    warning=text if outcome.problem else None, alert=outcome.problem)
