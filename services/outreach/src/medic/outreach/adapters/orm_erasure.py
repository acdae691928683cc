"""Tables of the erasure area (being built)."""
