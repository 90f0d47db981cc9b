"""Staff maintenance mode: device status, today's counts and faults, and the actions
store staff take (test print, paper, cash collection, out of service, restart).

Nothing is imported here, so the config can read `staff_pin` without pygame."""
