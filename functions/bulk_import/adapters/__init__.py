"""AWS adapters: one implementation of each port, built on boto3 clients handed in by the entry point."""
