"""The single error type raised by every validation rule."""


class RuleError(ValueError):
    """A value broke a validation rule.

    The message is meant for the person who sent the data and never names the field: the caller knows which
    field it validated and prefixes it (``"phone: too short to be a phone number"``). Subclassing
    :class:`ValueError` lets pydantic validators re-raise it unchanged.
    """
