"""The CloudEvents source of every event outreach publishes."""

SOURCE = "/services/outreach"
