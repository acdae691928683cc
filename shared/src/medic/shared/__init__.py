"""Building blocks shared by every service: settings, logging, events, topology, outbox, inbox, database, auth."""
