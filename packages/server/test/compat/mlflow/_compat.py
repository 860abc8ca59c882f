"""What the mlflow check scripts share: the server, the other two APIs, and small assertions.

Env (set by mlflow.compat.test.ts): MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN, the only
MLflow settings (a key with read,write of a plain user); CAIRN_URL; CAIRN_WORKSPACE (that user's
workspace); CAIRN_FOUNDRY_KEY (the same user's key with read,api:models-read).

MLFLOW_COMPAT_REFERENCE=1 runs a script against a real `mlflow server` instead (to check that the
expectations are MLflow's own): the Comet and Foundry read-backs are then left out. The test
never sets it (its MLFLOW_ prefix is stripped from the scripts' environment).
"""

import json
import math
import os
import secrets
import urllib.error
import urllib.parse
import urllib.request
import uuid

import mlflow
from mlflow.exceptions import MlflowException

REFERENCE = os.environ.get("MLFLOW_COMPAT_REFERENCE") == "1"
TRACKING_URI = os.environ["MLFLOW_TRACKING_URI"].rstrip("/")
MLFLOW_MAJOR = int(mlflow.__version__.split(".")[0])
IS_3 = MLFLOW_MAJOR >= 3
SUFFIX = f"{MLFLOW_MAJOR}-{secrets.token_hex(4)}"
# Explicit timestamps, so every point can be compared exactly.
T0 = 1_735_689_600_000  # 2025-01-01T00:00:00Z
CAIRN = None if REFERENCE else os.environ["CAIRN_URL"].rstrip("/")
WORKSPACE = None if REFERENCE else os.environ["CAIRN_WORKSPACE"]
KEY = os.environ.get("MLFLOW_TRACKING_TOKEN", "")
FOUNDRY_KEY = None if REFERENCE else os.environ["CAIRN_FOUNDRY_KEY"]


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def eq(actual, expected, what):
    check(actual == expected, f"{what}: expected {expected!r}, got {actual!r}")


def same_float(actual, expected, what):
    """Exact equality, NaN equal to NaN (a JSON round trip must not change a double)."""
    if isinstance(expected, float) and math.isnan(expected):
        check(isinstance(actual, float) and math.isnan(actual), f"{what}: expected NaN, got {actual!r}")
    else:
        eq(actual, expected, what)


def raises_mlflow(fn, error_code, message_part=None):
    """fn() must raise MlflowException with error_code (and message_part in its message)."""
    try:
        fn()
    except MlflowException as error:
        eq(error.error_code, error_code, f"error_code of {error}")
        if message_part is not None:
            check(message_part in str(error), f"{message_part!r} not in {str(error)!r}")
        return error
    raise AssertionError(f"expected MlflowException {error_code}, nothing was raised")


def _get(url, headers, raw=False):
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read()
            return body if raw else json.loads(body)
    except urllib.error.HTTPError as error:
        raise AssertionError(f"GET {url}: HTTP {error.code} {error.read()[:500]!r}") from None


def comet(path, raw=False, **params):
    """A Comet REST v2 read with the same key the MLflow client uses."""
    query = urllib.parse.urlencode(params)
    return _get(f"{CAIRN}/api/rest/v2/{path}?{query}", {"Authorization": KEY}, raw=raw)


def foundry(path, **params):
    """A Foundry Models v2 read with the user's api:models-read key."""
    query = urllib.parse.urlencode({"preview": "true", **params})
    return _get(f"{CAIRN}/api/v2/models/{path}?{query}", {"Authorization": f"Bearer {FOUNDRY_KEY}"})


def model_rid(experiment_id):
    """An MLflow experiment (a Cairn project, 32 hex) as a Foundry model RID."""
    return f"ri.models.main.model.{uuid.UUID(experiment_id)}"


def foundry_experiment(experiment_id, run_id):
    return foundry(f"{model_rid(experiment_id)}/experiments/ri.models.main.experiment.{run_id}")


def foundry_series(experiment_id, run_id, name):
    """Every point of a series through Foundry's JSON pages (1000 a page)."""
    points = []
    path = (f"{model_rid(experiment_id)}/experiments/ri.models.main.experiment.{run_id}"
            f"/series/{urllib.parse.quote(name, safe='')}/json")
    while True:
        page = foundry(path, offset=len(points), pageSize=1000)["series"]
        points.extend(page)
        if len(page) < 1000:
            return points


def comet_values(kind, run_id):
    """Comet's parameters ('parameters') or others ('log-other') of a run: name -> current text."""
    return {row["name"]: row["valueCurrent"] for row in comet(f"experiment/{kind}", experimentKey=run_id)["values"]}


def wire_float(value):
    """A double as Comet and Foundry write it: non-finite values as strings."""
    if isinstance(value, str):
        return float(value)
    return value


def ok(script):
    print(f"OK {script}", flush=True)
