"""Tables of the mentoring area (being built)."""
