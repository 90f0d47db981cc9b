"""The wire contract between the kiosk and the issuance center: what each side sends
and may expect back (`issuance`), and the national service window both keep. Both
sides import it; neither imports the other."""
