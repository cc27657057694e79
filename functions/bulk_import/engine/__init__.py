"""The import engine: validate and persist rows, chunk asynchronous imports and account for them,
the workflow's steps, file reading and result files."""
