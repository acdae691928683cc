"""Tables of the consent area (being built)."""
