"""HTTP API of the notifications service, one module per area, each with its own router."""
