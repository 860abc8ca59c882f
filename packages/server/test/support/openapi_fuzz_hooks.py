"""Schemathesis hooks for Cairn's OpenAPI fuzz suite (openapi-fuzz.ts loads them via SCHEMATHESIS_HOOKS).

One check replaces schemathesis' own `positive_data_acceptance` (ST202, "schema-valid request
rejected"), which the suite turns off: it runs that very check and lets its failure stand unless
the refusal (a 400 unless the rule says otherwise) has a body matching a rule the operation's document states under
`x-stated-rules` (packages/server/src/http/openapi/stated-rules.ts). Those are the rules no JSON
Schema can state: stored state (a name already taken, a cursor only the server issues), the clock,
a grammar, several query parameters at once. A 400 for anything else still fails the run.
"""

import re

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance


def _stated_rules(case):
    raw = case.operation.definition.raw
    return raw.get("x-stated-rules", []) if isinstance(raw, dict) else []


@schemathesis.check
def positive_data_acceptance_unless_stated(ctx, response, case):
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        body = response.text or ""
        for rule in _stated_rules(case):
            if response.status_code == rule.get("status", 400) and re.search(rule["refusal"], body):
                return None
        raise
