"""Turning a service's ValidationError into field errors for forms and the API."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def error_dict(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return exc.message_dict
    return {NON_FIELD_ERRORS: exc.messages}


def add_to_form(form: object, exc: ValidationError) -> None:
    """Attach a service's errors to a Django form, on the field they name where it has one."""
    fields = getattr(form, "fields", {})
    for name, messages in error_dict(exc).items():
        for message in messages:
            form.add_error(name if name in fields else None, message)  # type: ignore[attr-defined]
