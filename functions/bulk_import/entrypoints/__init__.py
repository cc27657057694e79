"""Lambda entry points: parse the event, call one use case, map its result or typed error."""
