"""Schemathesis hooks for `.ci/fuzz`.

The fuzzer learns ids from responses and reuses them, so it finds its own account in
`GET /users` and may deactivate it, delete it, or mint and spend a password reset for it, each
of which ends the session it tests with: every later request would be a (documented) 401 and
test nothing. Cases naming one of `FUZZ_PROTECTED_IDS` in the path get a fresh random id instead
(a documented 404), so the operation is still exercised.
"""

import os
import uuid

import schemathesis

PROTECTED = {value for value in os.environ.get("FUZZ_PROTECTED_IDS", "").split(",") if value}


@schemathesis.hook
def before_call(context, case, kwargs):
    parameters = case.path_parameters or {}
    for name, value in list(parameters.items()):
        if str(value) in PROTECTED:
            parameters[name] = str(uuid.uuid4())


@schemathesis.serializer("message/rfc822")
def rfc822(ctx, value):
    """Raw mail for the inbound e-mail endpoint: the generated text as bytes on the wire."""
    if isinstance(value, bytes):
        return {"data": value}
    return {"data": str(value).encode("utf-8", "surrogatepass")}
