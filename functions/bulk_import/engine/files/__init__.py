"""File imports (SPEC 6): reading CSV, XLSX, JSON and JSON Lines files into rows of an import kind.

Pure Python over binary streams (no boto3): ``readers`` turns bytes into cells or JSON values,
``columns`` maps header names to a kind's fields, ``rows`` combines them into numbered rows,
``results`` writes ``summary.json`` and ``errors.csv``, ``importer`` is the use case behind a file
drop and the upload endpoint, ``dry_run`` the one behind ``bulk-import validate``.
"""
