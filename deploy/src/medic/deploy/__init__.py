"""Running the whole system: the `medic` command."""
