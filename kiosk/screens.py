"""What each state shows: a View of text and buttons, in the resident's language.

Screens only read the machine; they never import device code and never change state.
Taps come back as the buttons' action strings.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.i18n import LANGUAGES, translate
from kiosk.states import PIN_LENGTH, Machine, State


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


DOCUMENT_TITLES = {
    "residence_record": "Copy of residence record",
    "residence_record_items": "Certificate of residence record items",
    "seal_certificate": "Seal registration certificate",
    "tax_certificate": "Tax and income certificate",
    "family_register_full": "Family register (all members)",
    "family_register_individual": "Family register (individual)",
    "family_register_annex": "Family register annex (addresses)",
}

# What the resident reads for each problem: what happened, then what to do.
PROBLEMS: dict[str, tuple[str, list[str]]] = {
    "not_my_number": ("This card cannot be used",
                      ["This is not a My Number card.", "Please place your My Number card."]),
    "old_card": ("This card cannot be used",
                 ["This is a Basic Resident Register card.", "Please use a My Number card."]),
    "card_removed": ("The card was moved",
                     ["The card could not be read to the end.", "Please start again and leave the card in place."]),
    "reader": ("Card reader not available",
               ["This kiosk cannot read cards right now.", "Please use another kiosk or try later."]),
    "card_error": ("The card could not be read",
                   ["Please start again and place the card flat on the reader."]),
    "pin_blocked": ("Your PIN is locked",
                    ["The PIN was entered wrongly too many times.",
                     "Please visit your municipal office to unlock it.",
                     "Bring your My Number card and photo identification."]),
    "certificate_expired": ("Your card's certificate has expired",
                            ["Please renew it at your municipal office."]),
    "certificate_revoked": ("Your card's certificate is not valid",
                            ["It was revoked.", "Please ask at your municipal office."]),
    "age_limit": ("Certificate cannot be issued here",
                  ["Residents under 15 cannot use this service.", "Please ask at your municipal office."]),
    "moved_out": ("Certificate cannot be issued here",
                  ["A move-out has been filed for you.", "Please ask at your municipal office."]),
    "not_yet_usable": ("Your card can be used from tomorrow",
                       ["A card cannot be used at a store on the day it was issued or changed.",
                        "Please come back tomorrow."]),
    "service_closed": ("Service closed now",
                       ["This certificate cannot be issued at this hour or on this day.",
                        "Please come back during service hours."]),
    "family_register_not_enrolled": ("Registration needed",
                                     ["Your family register is in another municipality.",
                                      "Please register for this service with that municipality first."]),
    "seal_not_registered": ("No registered seal",
                            ["There is no seal registered for you.", "Please ask at your municipal office."]),
    "tax_record_unavailable": ("No tax certificate available",
                               ["There is no tax record for this year.", "Please ask at your municipal office."]),
    "service_unreachable": ("Service not available",
                            ["The issuance center cannot be reached.", "No fee was charged. Please try later."]),
    "internal_error": ("Something went wrong",
                       ["This kiosk could not finish your request.", "No fee was charged. Please try later."]),
}
REFUSED = ("Certificate cannot be issued here",
           ["This certificate cannot be issued at this kiosk.", "Please ask at your municipal office."])
NOT_PRINTED = ("The certificate was not printed",
               ["Nothing was printed and no fee was charged.", "Please try again or ask at your municipal office."])


def _lang_buttons(lang: str) -> list[Button]:
    return [Button(f"lang:{code}", name, "secondary") for code, name in LANGUAGES.items() if code != lang]


def build_view(m: Machine) -> View:
    lang = m.language

    def _(text: str, **values) -> str:
        return translate(lang, text, **values)

    v = m.visit
    langs = _lang_buttons(lang)
    cancel = Button("cancel", _("Cancel"), "secondary")

    if m.state is State.WELCOME:
        return View("welcome", _("Certificate issuance"),
                    [_("Get a copy of your residence record with your My Number card."),
                     _("Touch Start to begin.")],
                    [Button("start", _("Start"))] + langs)
    if m.state is State.PLACE_CARD:
        return View("place_card", _("Place your My Number card"),
                    [_("Place the card on the reader and leave it there."),
                     _("Do not remove it until you are told to.")], [cancel] + langs)
    if m.state is State.PIN:
        lines = [_("Enter the 4-digit PIN of your card."),
                 _("Tries left before the PIN locks: {n}", n=v.tries_left)]
        warnings = []
        if v.pin_was_wrong:
            warnings.append(_("The PIN was wrong."))
        if v.tries_left == 1:
            warnings.append(_("Last try: one more wrong PIN locks the card."))
        warning = " ".join(warnings) or None
        keys = [Button(f"digit:{d}", str(d), "key") for d in (1, 2, 3, 4, 5, 6, 7, 8, 9)]
        keys += [Button("clear", _("Clear"), "key"), Button("digit:0", "0", "key"), Button("ok", _("OK"), "key")]
        return View("pin", _("Enter your PIN"), lines, keys + [cancel] + langs, warning=warning,
                    keypad=True, pin_filled=len(v.pin))
    if m.state is State.CHECKING:
        return View("checking", _("Checking"), [_("Please wait. Do not remove your card.")], langs, spinner=True)
    if m.state is State.CHOOSE_DOCUMENT:
        docs = [Button(f"doc:{d.type}", f"{_(DOCUMENT_TITLES.get(d.type, d.type))}    ¥{d.fee_yen}", "choice")
                for d in v.documents]
        return View("choose_document", _("Choose a certificate"), [_("Which certificate do you need?")],
                    docs + [cancel] + langs)
    if m.state is State.CONFIRM:
        doc = v.document
        return View("confirm", _("Check and print"),
                    [_(DOCUMENT_TITLES.get(doc.type, doc.type)),
                     _("Copies: {n}", n=v.copies),
                     _("Fee: ¥{fee}", fee=doc.fee_yen * v.copies)],
                    [Button("copies-", "−", "key"), Button("copies+", "+", "key"),
                     Button("print", _("Print")), Button("back", _("Back"), "secondary"), cancel] + langs)
    if m.state is State.PRINTING:
        return View("printing", _("Printing"), [_("Please wait. Do not remove your card.")], langs, spinner=True)
    if m.state is State.DONE:
        return View("done", _("Take your card and certificate"),
                    [_("Printing is finished ({pages} pages).", pages=v.printed_pages),
                     _("Do not forget your My Number card."), _("Take the certificate from the tray.")],
                    [Button("finish", _("Finish"))] + langs,
                    warning=_("Take your card!"))
    title, lines = problem_text(v.problem or "")
    return View(f"problem-{v.problem}", _(title), [_(line) for line in lines],
                [Button("ok", _("Back to start"))] + langs, alert=True)


def problem_text(code: str) -> tuple[str, list[str]]:
    if code in PROBLEMS:
        return PROBLEMS[code]
    if code.startswith(("binding_", "printer_")):
        return NOT_PRINTED
    return REFUSED  # the center's reason stays private: some reasons must never be shown


def pin_mask(filled: int) -> str:
    return " ".join("●" if i < filled else "○" for i in range(PIN_LENGTH))
