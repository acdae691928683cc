"""Several processes of every service against PostgreSQL, and the README's walk-throughs driven across them."""
