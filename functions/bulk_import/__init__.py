"""Serverless bulk-import stack: validate, normalize and store customers, debts and payments in bulk."""

__version__ = "0.1.0"
