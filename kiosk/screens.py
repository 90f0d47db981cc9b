"""What each state shows: a View of text and buttons, in the resident's language.

Screens only read the machine; they never import device code and never change state.
Taps come back as the buttons' action strings.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from contract import service_window
from kiosk.i18n import LANGUAGES, N_, translate
from kiosk.states import PIN_LENGTH, TILES_PER_PAGE, Closed, Machine, State


@dataclass(frozen=True)
class Button:
    action: str
    label: str
    # primary, secondary (bottom row); key (keypad, +/-); choice (a wide tile in the body);
    # check (a tile with a tick box, `checked` says its state); header (language and
    # display buttons in the title bar, on every screen)
    style: str = "primary"
    checked: bool = False
    detail: str | None = None  # one explaining line under a choice or check tile


@dataclass
class View:
    name: str  # stable screen id, used for screenshots and the transcript
    title: str
    lines: list[str] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    warning: str | None = None  # shown boxed, with an icon, never by colour alone
    keypad: bool = False
    pin_filled: int = 0
    spinner: bool = False
    alert: bool = False  # a problem screen: marked in the title bar
    big: str | None = None  # one large figure: the amount inserted, "3 / 5" pages printed
    progress: float | None = None  # 0..1, drawn as a bar with the figure beside it
    flash: bool = False  # the warning box blinks (take your card)
    sound: str | None = None  # played once when this screen appears: chime, alert, done
    prompt: str | None = None  # "need more time?" overlay text; its buttons have style "prompt"
    large_text: bool = False
    high_contrast: bool = False
    language: str | None = None  # of the text, so the renderer picks a font that has its glyphs


# Each document as the screens name it, translated. The Japanese catalogue gives the
# titles printed on it (contract.documents.DOCUMENT_TITLES), which tests/test_seams.py checks.
DOCUMENT_NAMES = {
    "residence_record": N_("Copy of residence record"),
    "residence_record_items": N_("Certificate of residence record items"),
    "seal_certificate": N_("Seal registration certificate"),
    "tax_certificate": N_("Tax and income certificate"),
    "family_register_full": N_("Family register (all members)"),
    "family_register_individual": N_("Family register (individual)"),
    "family_register_annex": N_("Family register annex (addresses)"),
}

# Each option a 住民票 can show, and one line that says what it is for.
OPTION_TEXT = {
    "relationship": (N_("Head of household and relationship"),
                     N_("Who heads the household and how each person is related.")),
    "domicile": (N_("Registered domicile (honseki)"),
                 N_("The registered domicile and its head. Some procedures need it.")),
    "my_number": (N_("My Number"),
                  N_("The 12-digit number. Only when the office you give it to asks for it.")),
    "nationality": (N_("Nationality or region"), N_("For residents of foreign nationality.")),
    "residence_card": (N_("Residence card number"), N_("For residents of foreign nationality.")),
    "residence_status": (N_("Status and period of residence"), N_("For residents of foreign nationality.")),
}

# What the resident reads for each problem: what happened, then what to do.
PROBLEMS: dict[str, tuple[str, list[str]]] = {
    "not_my_number": (N_("This card cannot be used"),
                      [N_("This is not a My Number card."), N_("Please place your My Number card.")]),
    "old_card": (N_("This card cannot be used"),
                 [N_("This is a Basic Resident Register card."), N_("Please use a My Number card.")]),
    "card_removed": (N_("The card was moved"),
                     [N_("The card could not be read to the end."),
                      N_("Please start again and leave the card in place.")]),
    "reader": (N_("Card reader not available"),
               [N_("This kiosk cannot read cards right now."), N_("Please use another kiosk or try later.")]),
    "card_error": (N_("The card could not be read"),
                   [N_("Please start again and place the card flat on the reader.")]),
    "pin_blocked": (N_("Your PIN is locked"),
                    [N_("The PIN was entered wrongly too many times."),
                     N_("Please visit your municipal office to unlock it."),
                     N_("Bring your My Number card and photo identification.")]),
    "certificate_expired": (N_("Your card's certificate has expired"),
                            [N_("Please renew it at your municipal office.")]),
    "certificate_not_yet_valid": (N_("Your card cannot be used yet"),
                                  [N_("Its certificate is not valid yet."), N_("Please try again later.")]),
    "certificate_revoked": (N_("Your card's certificate is not valid"),
                            [N_("It was revoked."), N_("Please ask at your municipal office.")]),
    "age_limit": (N_("Certificate cannot be issued here"),
                  [N_("Residents under 15 cannot use this service."), N_("Please ask at your municipal office.")]),
    "moved_out": (N_("Certificate cannot be issued here"),
                  [N_("A move-out has been filed for you."), N_("Please ask at your municipal office.")]),
    "not_yet_usable": (N_("Your card can be used from tomorrow"),
                       [N_("A card cannot be used at a store on the day it was issued or changed."),
                        N_("Please come back tomorrow.")]),
    "service_closed": (N_("Service closed now"),
                       [N_("This certificate cannot be issued at this hour or on this day."),
                        N_("Please come back during service hours.")]),
    "family_register_not_enrolled": (N_("Registration needed"),
                                     [N_("Your family register is in another municipality."),
                                      N_("Please register for this service with that municipality first.")]),
    "seal_not_registered": (N_("No registered seal"),
                            [N_("There is no seal registered for you."), N_("Please ask at your municipal office.")]),
    "tax_record_unavailable": (N_("No tax certificate available"),
                               [N_("There is no tax record for this year."),
                                N_("Please ask at your municipal office.")]),
    "no_documents": (N_("No certificate available now"),
                     [N_("No certificate can be issued for you at this kiosk now."),
                      N_("Please ask at your municipal office.")]),
    "service_unreachable": (N_("Service not available"),
                            [N_("The issuance center cannot be reached."), N_("Please try again later.")]),
    "internal_error": (N_("Something went wrong"),
                       [N_("This kiosk could not finish your request."), N_("Please try again later.")]),
    "payment_unavailable": (N_("Payment is not available"),
                            [N_("The coin and note machine is not working."),
                             N_("Please use another kiosk or ask the store staff.")]),
    "payment_jammed": (N_("The coin and note machine stopped"),
                       [N_("A coin or note is stuck."), N_("Please ask the store staff.")]),
    "payment_lost": (N_("The coin and note machine stopped"),
                     [N_("It stopped answering."), N_("Please ask the store staff.")]),
    "change_short": (N_("Change cannot be given"),
                     [N_("The machine does not have enough change now."),
                      N_("Please pay with smaller coins or use another kiosk.")]),
}
REFUSED = (N_("Certificate cannot be issued here"),
           [N_("This certificate cannot be issued at this kiosk."), N_("Please ask at your municipal office.")])
NOT_CHECKED = (N_("The certificate was not printed"),
               [N_("It did not pass this kiosk's check that it is yours, so nothing was printed."),
                N_("No fee was taken. Please try again or ask at your municipal office.")])
NOT_PRINTED = (N_("The certificate was not printed"),
               [N_("Pages that came out are not valid. Please leave them in the tray."),
                N_("Please try again or ask the store staff.")])


def problem_text(code: str) -> tuple[str, list[str]]:
    if code in PROBLEMS:
        return PROBLEMS[code]
    if code.startswith("binding_"):
        return NOT_CHECKED
    if code.startswith("printer_") or code == "confirm_refused":  # printed, but never valid: refunded
        return NOT_PRINTED
    return REFUSED  # the center's reason stays private: some reasons must never be shown


def pin_mask(filled: int) -> str:
    return " ".join("●" if i < filled else "○" for i in range(PIN_LENGTH))


def yen(amount: int) -> str:
    return f"¥{amount:,}"


# A day of the year in each language, such as 1月4日, January 4 or 4 tháng 1: CLDR's
# "MMMMd" as babel writes it (tests/test_seams.py holds these to babel), kept here
# because babel reads its whole data for a language (~4 MB, ~7 ms on the drawn frame)
# to write the first date in it. By babel's language code.
_MONTH_DAY = {"ja": "{month}月{day}日", "zh": "{month}月{day}日", "ko": "{month}월 {day}일",
              "vi": "{day} tháng {month}", "en": "{name} {day}", "pt": "{day} de {name}"}
_MONTH_NAMES = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "pt": ("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro",
           "novembro", "dezembro"),
}


def month_day(language: str, day: dt.date) -> str:
    code = language.split("_")[0]
    names = _MONTH_NAMES.get(code)
    return _MONTH_DAY[code].format(month=day.month, day=day.day, name=names[day.month - 1] if names else "")


class _Screens:
    """Builds the view of the machine's current state in its language."""

    def __init__(self, m: Machine, now: float):
        self.m, self.v, self.now = m, m.visit, now
        self.lang = m.language

    def _(self, text: str, **values) -> str:
        return translate(self.lang, text, **values)

    # --- pieces shared by screens -------------------------------------------------

    def header(self) -> list[Button]:
        _, m = self._, self.m
        return [Button("lang:menu", LANGUAGES.get(self.lang, self.lang), "header"),
                Button("a11y:text", _("Large text"), "header", checked=m.large_text),
                Button("a11y:contrast", _("High contrast"), "header", checked=m.high_contrast)]

    def cancel(self) -> Button:
        return Button("cancel", self._("Cancel"), "secondary")

    def back(self) -> Button:
        return Button("back", self._("Back"), "secondary")

    def money_lines(self) -> list[str]:
        _, v = self._, self.v
        lines = []
        if v.refunded:
            lines.append(_("{amount} was returned. Please take it from the change tray.", amount=yen(v.refunded)))
        if v.owed:
            lines.append(_("The machine could not return {amount}. Please show this screen to the store staff.",
                           amount=yen(v.owed)))
        return lines

    def paged(self, tiles: list[Button]) -> list[Button]:
        """The tiles of the current page, with page buttons when there are more."""
        pages = max(1, -(-len(tiles) // TILES_PER_PAGE))
        page = min(self.v.page, pages - 1)
        shown = tiles[page * TILES_PER_PAGE:(page + 1) * TILES_PER_PAGE]
        if page > 0:
            shown.append(Button("page:prev", self._("Previous"), "secondary"))
        if page < pages - 1:
            shown.append(Button("page:next", self._("More"), "secondary"))
        return shown

    def hours(self, hours: str) -> str:
        """The center's "06:30-23:00" or "mon-fri 09:00-17:00", in the resident's words."""
        if hours.startswith("mon-fri "):
            return self._("Weekdays {span}", span=hours.removeprefix("mon-fri "))
        return hours

    def document_title(self) -> str:
        doc = self.v.document
        return self._(DOCUMENT_NAMES.get(doc.type, doc.type))

    # --- screens -------------------------------------------------------------------

    def welcome(self) -> View:
        _ = self._
        if self.m.closed is not None:  # before "out of service": every kiosk is closed now
            return self.closed(self.m.closed)
        if not self.m.in_service:
            lines = [_("This kiosk cannot be used right now."), _("Please use another kiosk or ask the store staff.")]
            if not self.m.center_reachable:
                lines.insert(1, _("The issuance center cannot be reached. The kiosk keeps trying."))
            return View("out_of_service", _("Out of service"), lines, [], alert=True)
        return View("welcome", _("Certificate issuance"),
                    [_("Get certificates such as a copy of your residence record with your My Number card."),
                     _("Touch Start to begin.")],
                    [Button("start", _("Start"))])

    def closed(self, closed: Closed) -> View:
        """Outside the national service window: when it opens, and no Start."""
        _ = self._
        time = f"{closed.opens:%H:%M}"
        if closed.days_away == 0:
            opens = _("Service starts today at {time}.", time=time)
        elif closed.days_away == 1:
            opens = _("Service starts tomorrow at {time}.", time=time)
        else:
            opens = _("Service starts on {date} at {time}.", date=month_day(self.lang, closed.opens.date()),
                      time=time)
        first, last = (month_day(self.lang, dt.date(2000, *month_and_day)) for month_and_day in
                       service_window.YEAR_END)
        return View("closed", _("Service closed now"),
                    [opens, _("Service hours: {hours}", hours=service_window.HOURS),
                     _("Closed every year from {first} to {last}.", first=first, last=last)], [])

    def language(self) -> View:
        buttons = [Button(f"lang:{code}", name, "choice") for code, name in LANGUAGES.items()]
        return View("language", self._("Choose a language"), [],
                    buttons + [Button("lang:menu", self._("Back"), "secondary")])

    def place_card(self) -> View:
        _ = self._
        return View("place_card", _("Place your My Number card"),
                    [_("Place the card on the reader and leave it there."),
                     _("Do not remove it until you are told to.")], [self.cancel()])

    def pin(self) -> View:
        _, v = self._, self.v
        lines = [_("Enter the 4-digit PIN of your card."),
                 _("Tries left before the PIN locks: {n}", n=v.tries_left)]
        warnings = []
        if v.pin_was_wrong:
            warnings.append(_("The PIN was wrong."))
        if v.tries_left == 1:
            warnings.append(_("Last try: one more wrong PIN locks the card."))
        keys = [Button(f"digit:{d}", str(d), "key") for d in (1, 2, 3, 4, 5, 6, 7, 8, 9)]
        keys += [Button("clear", _("Clear"), "key"), Button("digit:0", "0", "key"), Button("ok", _("OK"), "key")]
        return View("pin", _("Enter your PIN"), lines, keys + [self.cancel()], warning=" ".join(warnings) or None,
                    keypad=True, pin_filled=len(v.pin))

    def waiting(self, name: str, title: str) -> View:
        return View(name, self._(title), [self._("Please wait. Do not remove your card.")], [], spinner=True)

    def choose_document(self) -> View:
        _ = self._
        tiles = [Button(f"doc:{d.type}", _(DOCUMENT_NAMES.get(d.type, d.type)), "choice",
                        detail=_("{fee} per copy", fee=yen(d.fee_yen))) for d in self.v.documents if d.available]
        lines = [_("Which certificate do you need?")]
        for d in self.v.documents:
            if d.refusal == "service_closed" and d.opening_hours:  # others: coming back later won't help
                lines.append(_("{document}: not available now (hours: {hours})",
                               document=_(DOCUMENT_NAMES.get(d.type, d.type)), hours=self.hours(d.opening_hours)))
        return View("choose_document", _("Choose a certificate"), lines, self.paged(tiles) + [self.cancel()])

    def members(self) -> View:
        _, v = self._, self.v
        tiles = [Button(f"member:{mem.id}", mem.name, "check", checked=mem.id in v.members,
                        detail=_("Card holder") if mem.is_cardholder else None) for mem in v.document.members]
        warning = None if v.members else _("Choose at least one person.")
        buttons = self.paged(tiles) + [Button("all", _("Everyone"), "secondary"), self.back(), self.cancel()]
        if v.members:
            buttons.append(Button("next", _("Next")))
        return View("members", _("Who should be on it?"),
                    [self.document_title(), _("Tick each person the certificate should list.")], buttons,
                    warning=warning)

    def options(self) -> View:
        _, v = self._, self.v
        tiles = [Button(f"option:{o}", _(OPTION_TEXT[o][0]), "check", checked=o in v.include,
                        detail=_(OPTION_TEXT[o][1])) for o in v.document.options]
        return View("options", _("What should it show?"),
                    [_("Tick what the certificate should show. Leave the rest off.")],
                    self.paged(tiles) + [self.back(), self.cancel(), Button("next", _("Next"))])

    def copies(self) -> View:
        _, v = self._, self.v
        return View("copies", _("How many copies?"),
                    [self.document_title(), _("{fee} per copy", fee=yen(v.document.fee_yen))],
                    [Button("copies-", "−", "key"), Button("copies+", "+", "key"),
                     self.back(), self.cancel(), Button("next", _("Next"))],
                    big=str(v.copies))

    def fee(self) -> View:
        _, v = self._, self.v
        lines = [self.document_title(),
                 _("{fee} × {copies} = {total}", fee=yen(v.document.fee_yen), copies=v.copies, total=yen(v.fee))]
        buttons = [self.back(), self.cancel()]
        if v.quote is None:
            lines.append(_("Checking the change in the machine."))
            return View("fee", _("Fee"), lines, buttons, big=yen(v.fee), spinner=True)
        lines.append(_("This machine takes: {inserts}", inserts=", ".join(yen(x) for x in v.quote.accepted)))
        warning = None
        if v.quote.refused:
            warning = _("It cannot take {inserts} now: not enough change.",
                        inserts=", ".join(yen(x) for x in v.quote.refused))
        lines.append(_("Change is given in coins."))
        return View("fee", _("Fee"), lines, buttons + [Button("pay", _("Pay"))], big=yen(v.fee), warning=warning)

    def paying(self) -> View:
        _, v = self._, self.v
        paid = v.credited >= v.due
        lines = ([_("Paid. Printing starts now.")] if paid else
                 [_("Insert coins or notes."), _("Cancel gives back everything you inserted.")])
        buttons = [] if paid else [Button("cancel", _("Cancel"), "secondary")]
        return View("paying", _("Insert the fee"), lines, buttons,
                    big=f"{yen(v.credited)} / {yen(v.due)}", progress=min(1.0, v.credited / v.due) if v.due else 0)

    def refunding(self) -> View:
        return View("refunding", self._("Returning your money"), [self._("Please wait.")], [], spinner=True)

    def printing(self) -> View:
        _, v = self._, self.v
        sheet, sheets = v.sheets
        if v.printer_waiting:
            return View("printer_waiting", _("The printer ran out of paper"),
                        [_("Please ask the store staff to add paper."),
                         _("The certificate will then be printed again from the start. The pages that came out "
                           "are not valid."),
                         _("If that takes too long, your money is returned.")], [], spinner=True, alert=True,
                        sound="alert")
        return View("printing", _("Printing"),
                    [_("Printing sheet {sheet} of {sheets}.", sheet=sheet, sheets=sheets),
                     _("Please wait. Do not remove your card.")], [],
                    big=f"{sheet} / {sheets}", progress=sheet / sheets if sheets else 0.0)

    def more(self) -> View:
        _, v = self._, self.v
        lines = [_("Your certificate is printed. Take it from the tray.")]
        if v.change:
            lines.append(_("Take your change: {amount}", amount=yen(v.change)))
        lines += self.money_lines()
        buttons = [Button("finish", _("Finish"))]
        if self.m.more_documents_allowed(self.now):
            lines.append(_("Do you need another certificate? You do not need your PIN again."))
            buttons.insert(0, Button("another", _("Another certificate"), "secondary"))
        return View("more", _("Printed"), lines, buttons, sound="done")

    def take_card(self) -> View:
        _ = self._
        return View("take_card", _("Take your card"),
                    [_("Please take your My Number card from the reader.")], [],
                    warning=_("Do not forget your card!"), flash=True, sound="chime")

    def take_documents(self) -> View:
        _ = self._
        return View("take_documents", _("Thank you"),
                    [_("Take your certificate and receipt from the tray."), _("Take any change from the tray.")],
                    [Button("ok", _("Finish"))], sound="done")

    def cancelled(self) -> View:
        _ = self._
        return View("cancelled", _("Payment cancelled"),
                    [_("Nothing was printed.")] + self.money_lines(),
                    [Button("ok", _("Back to start"))])

    def problem(self) -> View:
        _, v = self._, self.v
        title, lines = problem_text(v.problem or "")
        lines = [_(line) for line in lines] + self.money_lines()
        if v.hours:
            lines.insert(1, _("Service hours: {hours}", hours=self.hours(v.hours)))
        if self.m.card_present:
            lines.append(_("Take your card before you leave."))
        return View(f"problem-{v.problem}", _(title), lines, [Button("ok", _("Back to start"))], alert=True,
                    sound="alert")


SCREENS = {
    State.WELCOME: _Screens.welcome,
    State.PLACE_CARD: _Screens.place_card,
    State.PIN: _Screens.pin,
    State.CHECKING: lambda s: s.waiting("checking", N_("Checking")),
    State.CHOOSE_DOCUMENT: _Screens.choose_document,
    State.MEMBERS: _Screens.members,
    State.OPTIONS: _Screens.options,
    State.COPIES: _Screens.copies,
    State.FEE: _Screens.fee,
    State.PREPARING: lambda s: s.waiting("preparing", N_("Preparing your certificate")),
    State.PAYING: _Screens.paying,
    State.REFUNDING: _Screens.refunding,
    State.PRINTING: _Screens.printing,
    State.MORE: _Screens.more,
    State.TAKE_CARD: _Screens.take_card,
    State.TAKE_DOCUMENTS: _Screens.take_documents,
    State.CANCELLED: _Screens.cancelled,
    State.PROBLEM: _Screens.problem,
}


def build_view(m: Machine, now: float = 0.0) -> View:
    screens = _Screens(m, now)
    view = screens.language() if m.language_menu else SCREENS[m.state](screens)
    view.buttons += screens.header()
    view.large_text, view.high_contrast = m.large_text, m.high_contrast
    view.language = m.language
    if m.prompting:
        view.prompt = screens._("Do you need more time?")
        view.buttons = [Button("more_time", screens._("Yes, more time"), "prompt"),
                        Button("end_now", screens._("No, finish"), "prompt")] + view.buttons
    return view
