"""Schemathesis hooks for Cairn's OpenAPI fuzz suite (openapi-fuzz.ts loads them via SCHEMATHESIS_HOOKS).

One check replaces schemathesis' own `positive_data_acceptance` (ST202, "schema-valid request
rejected"), which the suite turns off: it runs that very check and lets its failure stand unless
the refusal (a 400 unless the rule says otherwise) has a body matching a rule the operation's document states under
`x-stated-rules` (packages/server/src/http/openapi/stated-rules.ts). Those are the rules no JSON
Schema can state: stored state (a name already taken, a cursor only the server issues), the clock,
a grammar, several query parameters at once. A 400 for anything else still fails the run. A
request whose path parameters break their documented schema is not schema-valid, whatever phase
sent it, and is not held to the check.
"""

import re

import jsonschema_rs
import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance


def _stated_rules(case):
    raw = case.operation.definition.raw
    return raw.get("x-stated-rules", []) if isinstance(raw, dict) else []


def _breaks_path_schema(case):
    """True when a string path parameter violates its documented schema. The stateful phase fills
    some parameters without their schema (a stage name with a newline, for one), yet counts the
    request as valid; a request the document calls invalid is no "schema-valid request"."""
    raw = case.operation.definition.raw
    parameters = raw.get("parameters", []) if isinstance(raw, dict) else []
    for parameter in parameters:
        schema = parameter.get("schema") if isinstance(parameter, dict) else None
        if parameter.get("in") != "path" or not isinstance(schema, dict) or schema.get("type") != "string":
            continue
        value = (case.path_parameters or {}).get(parameter.get("name"))
        if isinstance(value, str) and not jsonschema_rs.validator_for(schema).is_valid(value):
            return True
    return False


@schemathesis.check
def positive_data_acceptance_unless_stated(ctx, response, case):
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if _breaks_path_schema(case):
            return None
        body = response.text or ""
        for rule in _stated_rules(case):
            if response.status_code == rule.get("status", 400) and re.search(rule["refusal"], body):
                return None
        raise
