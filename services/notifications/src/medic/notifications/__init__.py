"""The notifications service: every domain event, kept in an ops event log and tailed live."""
