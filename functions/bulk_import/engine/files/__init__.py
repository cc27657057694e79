"""File imports: reading CSV, XLSX, JSON and JSON Lines files into rows of an import kind.

Pure Python over binary streams (no boto3): ``readers`` turns bytes into cells or JSON values,
``columns`` maps header names to a kind's fields, ``rows`` combines them into numbered rows,
``options`` reads a dropped key and its metadata, ``results`` and ``outputs`` write ``summary.json`` and
``errors.csv``. The use cases behind file drops, uploads and ``bulk-import validate`` live in
``bulk_import.usecases`` (``files``, ``uploads``, ``dry_run``).
"""
