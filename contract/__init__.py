"""The wire contract between the kiosk and the issuance center: what each side sends
and may expect back (`issuance`), the national service window both keep, and each
document's title (`documents`). Both sides import it; neither imports the other."""
