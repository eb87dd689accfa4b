"""Results: states, check/group/controls results and totals; JSON round trip."""
