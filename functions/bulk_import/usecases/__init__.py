"""Use cases: what a request or an event asks of the product."""
