"""Tables of the safeguarding area (being built)."""
