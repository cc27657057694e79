"""The core every layer shares: the import model, typed errors, tenants and the ports to storage."""
