"""The official Foundry Python client (foundry-platform-sdk) reads Cairn's experiments.

Seeds one model (a Cairn project) with twelve experiments through the Comet REST writes, then
reads them back through `client.models.Model.Experiment`: get, search with every filter variant
(as dicts and as the SDK's typed models), ordering, paging, errors, and series JSON.

Env: CAIRN_URL (http://127.0.0.1:<port>), CAIRN_API_KEY (a key with every scope), CAIRN_HOST
(127.0.0.1:<port>, what FoundryClient takes as hostname).
"""

import datetime
import json
import os
import secrets
import time
import urllib.error
import urllib.request
import uuid

import foundry_sdk
from foundry_sdk.v2.models import errors as model_errors
from foundry_sdk.v2.models import models as mm

URL = os.environ["CAIRN_URL"].rstrip("/")
KEY = os.environ["CAIRN_API_KEY"]
HOST = os.environ["CAIRN_HOST"]
WORKSPACE = "default"
UTC = datetime.timezone.utc
SUFFIX = secrets.token_hex(4)
PROJECT = f"fsdk-{SUFFIX}"
OTHER_PROJECT = f"fsdk-other-{SUFFIX}"
# Explicit point timestamps, so the series JSON can be asserted exactly.
T0 = 1_735_689_600_000  # 2025-01-01T00:00:00Z


def rest(method, path, body=None):
    """One Comet REST v2 call (the way data gets into Cairn)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{URL}/api/rest/v2/{path}",
        data=data,
        method=method,
        headers={"Authorization": KEY, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200, f"{path}: HTTP {response.status}"
        return json.loads(response.read() or b"{}")


# ---------------------------------------------------------------------------------------------
# Seed data: name, final status, git branch, tags, parameters, series (name -> values, steps 0..n)
# ---------------------------------------------------------------------------------------------

EXPERIMENTS = [
    dict(name="resnet-baseline", status="SUCCEEDED", branch="main", tags=["baseline", "cnn"],
         params={"lr": 0.001, "epochs": 10, "optimizer": "adam", "use_amp": True,
                 "data_cutoff": "2025-01-01T00:00:00+00:00"},
         series={"train/loss": [2.0, 1.5, 1.1, 0.9, 0.8, 0.7, 0.65, 0.6, 0.58, 0.55, 0.52, 0.5],
                 "val/acc": [0.5, 0.7, 0.8]}),
    dict(name="resnet-wide", status="SUCCEEDED", branch="main", tags=["cnn"],
         params={"lr": 0.01, "epochs": 20, "optimizer": "sgd", "use_amp": False,
                 "data_cutoff": "2025-06-01T12:00:00+00:00"},
         series={"train/loss": [2.2, 1.2, 0.7, 0.4], "val/acc": [0.6, 0.85]}),
    dict(name="resnet-deep", status="FAILED", error="CUDA out of memory", branch="feature/deep",
         tags=["cnn", "discarded"],
         params={"lr": 0.1, "epochs": 5, "optimizer": "sgd-nesterov", "use_amp": True},
         series={"train/loss": [3.0, 2.9]}),
    dict(name="vit-small", status="RUNNING", tags=["transformer"],
         params={"lr": 0.0003, "epochs": 30, "optimizer": "adamw",
                 "data_cutoff": "2024-12-31T23:00:00-02:00"},
         series={"train/loss": [1.9, 1.4, 1.0], "val/acc": [0.55]}),
    dict(name="vit-base", status="SUCCEEDED", tags=["transformer", "baseline"],
         params={"lr": 0.0003, "epochs": 40, "optimizer": "AdamW", "warmup_steps": 500},
         series={"train/loss": [1.8, 1.0, 0.5, 0.3, 0.25], "val/acc": [0.9]}),
    dict(name="mlp-tiny", status="SUCCEEDED", branch="master", tags=[],
         params={"lr": 0.5, "epochs": 1, "optimizer": "adam"},
         series={"train/loss": [0.9]}),
    dict(name="mlp-archived", status="SUCCEEDED", archived=True, tags=["baseline"],
         params={"lr": 0.05, "epochs": 3, "optimizer": "adam"},
         series={"train/loss": [1.0, 0.95]}),
    dict(name="gbm-depth4", status="SUCCEEDED", branch="exp/gbm", tags=["trees"],
         params={"max_depth": 4, "subsample": 0.8, "booster": "gbtree", "early_stop": True},
         series={"val/auc": [0.7, 0.8, 0.82]}),
    dict(name="gbm-depth8", status="FAILED", crashed=True, branch="exp/gbm", tags=["trees", "discarded"],
         params={"max_depth": 8, "subsample": 0.5, "booster": "dart"},
         series={"val/auc": [0.65]}),
    dict(name="Linear-Probe", status="RUNNING", tags=["probe"],
         params={"lr": 0.02, "frozen": True, "notes": "linear probe on frozen features"},
         series={"train/loss": [0.7, 0.69, 0.71]}),
    dict(name="linear-probe-v2", status="SUCCEEDED", tags=["probe"],
         params={"lr": 0.02, "frozen": False, "notes": "second probe, adam 2025"},
         series={"train/loss": [0.6]}),
    dict(name="empty-run", status="SUCCEEDED", tags=[], params={}, series={}),
]
NAMES = [e["name"] for e in EXPERIMENTS]
ALL = set(NAMES)

keys = {}
for spec in EXPERIMENTS:
    created = rest("POST", "write/experiment/create",
                   {"workspaceName": WORKSPACE, "projectName": PROJECT, "experimentName": spec["name"]})
    keys[spec["name"]] = created["experimentKey"]
    # Distinct creation times, so CREATED_TIME ordering is the creation order.
    time.sleep(0.01)
for spec in EXPERIMENTS:
    key = keys[spec["name"]]
    for name, value in spec["params"].items():
        rest("POST", "write/experiment/parameter",
             {"experimentKey": key, "parameterName": name, "parameterValue": value})
    for name, values in spec["series"].items():
        for step, value in enumerate(values):
            rest("POST", "write/experiment/metric",
                 {"experimentKey": key, "metricName": name, "metricValue": value,
                  "step": step, "timestamp": T0 + 1000 * step})
    if spec["tags"]:
        rest("POST", "write/experiment/tags", {"experimentKey": key, "addedTags": spec["tags"]})
    if spec.get("branch"):
        rest("POST", "write/experiment/git/metadata",
             {"experimentKey": key, "branch": spec["branch"], "user": "ada", "root": "/src",
              "parent": "0123abcd", "origin": "git@example.com:ada/models.git"})
# Statuses last: a write could revive an ended run.
for spec in EXPERIMENTS:
    key = keys[spec["name"]]
    if spec["status"] == "SUCCEEDED":
        rest("POST", "write/experiment/update-status", {"experimentKey": key, "isAlive": False})
    elif spec["status"] == "FAILED":
        rest("POST", "write/experiment/update-status",
             {"experimentKey": key, "isAlive": False, "error": spec.get("error"),
              "hasCrashed": bool(spec.get("crashed"))})
    if spec.get("archived"):
        rest("GET", f"write/experiment/archive?experimentKey={key}")

other_key = rest("POST", "write/experiment/create",
                 {"workspaceName": WORKSPACE, "projectName": OTHER_PROJECT,
                  "experimentName": "resnet-baseline"})["experimentKey"]
rest("POST", "write/experiment/metric",
     {"experimentKey": other_key, "metricName": "train/loss", "metricValue": 1.0, "step": 0})


def model_rid_of(project_name):
    project_id = rest("GET", f"project?workspaceName={WORKSPACE}&projectName={project_name}")["projectId"]
    return f"ri.models.main.model.{uuid.UUID(project_id)}"


MODEL = model_rid_of(PROJECT)
OTHER_MODEL = model_rid_of(OTHER_PROJECT)
RID = {name: f"ri.models.main.experiment.{key}" for name, key in keys.items()}
NAME_OF = {rid: name for name, rid in RID.items()}
OTHER_RID = f"ri.models.main.experiment.{other_key}"


def beat():
    """Heartbeats keep the RUNNING experiments running (a run without beats for 60 s has ended)."""
    for spec in EXPERIMENTS:
        if spec["status"] == "RUNNING":
            rest("GET", f"write/experiment/set-status?experimentKey={keys[spec['name']]}")


client = foundry_sdk.FoundryClient(
    auth=foundry_sdk.UserTokenAuth(KEY), hostname=HOST, config=foundry_sdk.Config(scheme="http")
)
Experiment = client.models.Model.Experiment


def search_all(where=None, order_by=None, page_size=100):
    """Every page of a search; returns the names in result order."""
    names, token = [], None
    while True:
        page = Experiment.search(MODEL, where=where, order_by=order_by, page_size=page_size,
                                 page_token=token, preview=True)
        names.extend(NAME_OF[e.rid] for e in page.data)
        token = page.next_page_token
        if token is None:
            return names


def found(where):
    names = search_all(where)
    assert len(names) == len(set(names)), f"duplicates for {where}: {names}"
    return set(names)


def expect(where, expected):
    got = found(where)
    assert got == set(expected), f"{where}: expected {sorted(expected)}, got {sorted(got)}"


def expect_invalid(where, reason_part):
    try:
        Experiment.search(MODEL, where=where, preview=True)
    except model_errors.InvalidExperimentSearchFilter as error:
        assert error.name == "InvalidExperimentSearchFilter"
        reason = error.parameters["reason"]
        assert isinstance(reason, str) and reason_part in reason, f"{where}: reason {reason!r}"
        return
    raise AssertionError(f"{where} was accepted; InvalidExperimentSearchFilter expected")


def eq(field, value):
    return {"type": "eq", "field": field, "value": value}


def param(name, operator, value):
    return {"type": "parameterFilter", "parameterName": name, "operator": operator, "value": value}


def series_filter(name, field, operator, value):
    return {"type": "seriesFilter", "seriesName": name, "field": field, "operator": operator, "value": value}


def summary(name, aggregation, operator, value):
    return {"type": "summaryMetricFilter", "seriesName": name, "aggregation": aggregation,
            "operator": operator, "value": value}


beat()

# ---------------------------------------------------------------------------------------------
# Model.get and Experiment.get
# ---------------------------------------------------------------------------------------------

assert client.models.Model.get(MODEL, preview=True).rid == MODEL

before = datetime.datetime.now(UTC)
baseline = Experiment.get(MODEL, RID["resnet-baseline"], preview=True)
assert isinstance(baseline, mm.Experiment)
assert baseline.rid == RID["resnet-baseline"]
assert baseline.model_rid == MODEL
assert baseline.created_time.tzinfo is not None, "createdTime must carry a zone"
assert before - datetime.timedelta(minutes=10) < baseline.created_time <= before, baseline.created_time
uuid.UUID(baseline.created_by)  # a PrincipalId
assert isinstance(baseline.source, mm.ExperimentSdkSource)
assert baseline.status == "SUCCEEDED"
assert baseline.status_message is None
assert baseline.branch == "main"
parameters = {p.name: p.value for p in baseline.parameters}
assert set(parameters) == {"lr", "epochs", "optimizer", "use_amp", "data_cutoff"}, parameters
assert isinstance(parameters["lr"], mm.DoubleParameter) and parameters["lr"].value == 0.001
assert isinstance(parameters["epochs"], mm.IntegerParameter) and parameters["epochs"].value == 10
assert isinstance(parameters["optimizer"], mm.StringParameter) and parameters["optimizer"].value == "adam"
assert isinstance(parameters["use_amp"], mm.BooleanParameter) and parameters["use_amp"].value is True
assert isinstance(parameters["data_cutoff"], mm.DatetimeParameter)
assert parameters["data_cutoff"].value == datetime.datetime(2025, 1, 1, tzinfo=UTC)
series = {s.name: s for s in baseline.series}
assert set(series) == {"train/loss", "val/acc"}, series
loss = series["train/loss"]
assert loss.length == 12
assert isinstance(loss.value, mm.DoubleSeriesAggregations)
assert (loss.value.min, loss.value.max, loss.value.last) == (0.5, 2.0, 0.5), loss
acc = series["val/acc"]
assert (acc.length, acc.value.min, acc.value.max, acc.value.last) == (3, 0.5, 0.8, 0.8), acc
summaries = {(m.series_name, m.aggregation): m.value for m in baseline.summary_metrics}
assert summaries == {
    ("train/loss", "MIN"): 0.5, ("train/loss", "MAX"): 2.0, ("train/loss", "LAST"): 0.5,
    ("val/acc", "MIN"): 0.5, ("val/acc", "MAX"): 0.8, ("val/acc", "LAST"): 0.8,
}, summaries
assert sorted(baseline.tags) == ["baseline", "cnn"]
assert baseline.artifacts == {}
assert baseline.job_rid is None and baseline.linked_model_version is None

# A datetime logged with another zone is the same instant.
vit = Experiment.get(MODEL, RID["vit-small"], preview=True)
vit_params = {p.name: p.value for p in vit.parameters}
assert vit_params["data_cutoff"].value == datetime.datetime(2025, 1, 1, 1, tzinfo=UTC), vit_params
assert vit.status == "RUNNING" and vit.branch == "master", (vit.status, vit.branch)

deep = Experiment.get(MODEL, RID["resnet-deep"], preview=True)
assert deep.status == "FAILED" and deep.status_message == "CUDA out of memory", deep
assert deep.branch == "feature/deep"
crashed = Experiment.get(MODEL, RID["gbm-depth8"], preview=True)
assert crashed.status == "FAILED" and crashed.status_message, crashed
gbm = Experiment.get(MODEL, RID["gbm-depth4"], preview=True)
gbm_params = {p.name: p.value for p in gbm.parameters}
assert gbm_params["max_depth"] == mm.IntegerParameter(value=4), gbm_params
assert gbm_params["subsample"] == mm.DoubleParameter(value=0.8), gbm_params
assert gbm_params["early_stop"] == mm.BooleanParameter(value=True), gbm_params

empty = Experiment.get(MODEL, RID["empty-run"], preview=True)
assert (empty.parameters, empty.series, empty.summary_metrics, empty.tags) == ([], [], [], [])
assert empty.branch == "master" and empty.status == "SUCCEEDED"

# An archived experiment is still an experiment of its model.
assert Experiment.get(MODEL, RID["mlp-archived"], preview=True).rid == RID["mlp-archived"]

# ---------------------------------------------------------------------------------------------
# Search: every filter variant, as dicts in the flat `type` form
# ---------------------------------------------------------------------------------------------

beat()
expect(None, ALL)
expect(eq("STATUS", "SUCCEEDED"),
       {"resnet-baseline", "resnet-wide", "vit-base", "mlp-tiny", "mlp-archived", "gbm-depth4",
        "linear-probe-v2", "empty-run"})
expect(eq("STATUS", "FAILED"), {"resnet-deep", "gbm-depth8"})
expect(eq("STATUS", "RUNNING"), {"vit-small", "Linear-Probe"})

# Experiments without git metadata are on the default branch.
expect(eq("BRANCH", "main"), {"resnet-baseline", "resnet-wide"})
expect(eq("BRANCH", "master"),
       {"vit-small", "vit-base", "mlp-tiny", "mlp-archived", "Linear-Probe", "linear-probe-v2", "empty-run"})
expect(eq("BRANCH", "exp/gbm"), {"gbm-depth4", "gbm-depth8"})
expect(eq("BRANCH", "nope"), set())

expect(eq("EXPERIMENT_NAME", "vit-base"), {"vit-base"})
expect(eq("EXPERIMENT_NAME", "VIT-BASE"), set())  # eq is exact
expect(eq("EXPERIMENT_RID", RID["gbm-depth4"]), {"gbm-depth4"})
expect(eq("EXPERIMENT_RID", OTHER_RID), set())  # another model's experiment
expect(eq("JOB_RID", "ri.foundry.main.job.00000000-0000-0000-0000-000000000000"), set())
expect(eq("TAG", "baseline"), {"resnet-baseline", "vit-base", "mlp-archived"})
expect(eq("TAG", "discarded"), {"resnet-deep", "gbm-depth8"})
expect(eq("PARAMETER_NAME", "warmup_steps"), {"vit-base"})
expect(eq("PARAMETER_NAME", "booster"), {"gbm-depth4", "gbm-depth8"})
expect(eq("SERIES_NAME", "val/auc"), {"gbm-depth4", "gbm-depth8"})
expect(eq("SERIES_NAME", "val/acc"), {"resnet-baseline", "resnet-wide", "vit-small", "vit-base"})

# contains / startsWith ignore case.
expect({"type": "contains", "field": "EXPERIMENT_NAME", "value": "probe"}, {"Linear-Probe", "linear-probe-v2"})
expect({"type": "contains", "field": "EXPERIMENT_NAME", "value": "RESNET"},
       {"resnet-baseline", "resnet-wide", "resnet-deep"})
expect({"type": "startsWith", "field": "EXPERIMENT_NAME", "value": "vit-"}, {"vit-small", "vit-base"})
expect({"type": "startsWith", "field": "EXPERIMENT_NAME", "value": "linear"}, {"Linear-Probe", "linear-probe-v2"})
expect({"type": "startsWith", "field": "EXPERIMENT_NAME", "value": "probe"}, set())
expect({"type": "contains", "field": "PARAMETER_NAME", "value": "depth"}, {"gbm-depth4", "gbm-depth8"})
expect({"type": "startsWith", "field": "PARAMETER_NAME", "value": "USE_"},
       {"resnet-baseline", "resnet-wide", "resnet-deep"})
expect({"type": "contains", "field": "SERIES_NAME", "value": "acc"},
       {"resnet-baseline", "resnet-wide", "vit-small", "vit-base"})
expect({"type": "startsWith", "field": "SERIES_NAME", "value": "val/"},
       {"resnet-baseline", "resnet-wide", "vit-small", "vit-base", "gbm-depth4", "gbm-depth8"})
expect({"type": "startsWith", "field": "SERIES_NAME", "value": "train"},
       {"resnet-baseline", "resnet-wide", "resnet-deep", "vit-small", "vit-base", "mlp-tiny", "mlp-archived",
        "Linear-Probe", "linear-probe-v2"})

# parameterFilter: EQ with each value class.
expect(param("lr", "EQ", 0.0003), {"vit-small", "vit-base"})
expect(param("epochs", "EQ", 10), {"resnet-baseline"})
expect(param("use_amp", "EQ", True), {"resnet-baseline", "resnet-deep"})
expect(param("use_amp", "EQ", False), {"resnet-wide"})
expect(param("data_cutoff", "EQ", "2025-01-01T00:00:00+00:00"), {"resnet-baseline"})
expect(param("data_cutoff", "EQ", "2025-01-01T01:00:00Z"), {"vit-small"})
# A datetime object: the client sends it as an ISO string with +00:00.
expect(param("data_cutoff", "EQ", datetime.datetime(2025, 1, 1, 1, tzinfo=UTC)), {"vit-small"})
expect(param("optimizer", "EQ", True), set())  # a boolean never equals a string parameter
# GT / LT with numbers (integers and doubles alike) and datetimes.
expect(param("lr", "GT", 0.01), {"resnet-deep", "mlp-tiny", "mlp-archived", "Linear-Probe", "linear-probe-v2"})
expect(param("lr", "LT", 0.001), {"vit-small", "vit-base"})
expect(param("epochs", "GT", 20), {"vit-small", "vit-base"})
expect(param("epochs", "LT", 5), {"mlp-tiny", "mlp-archived"})
expect(param("epochs", "GT", 19.5), {"resnet-wide", "vit-small", "vit-base"})
expect(param("subsample", "LT", 1), {"gbm-depth4", "gbm-depth8"})
expect(param("data_cutoff", "GT", "2025-01-01T00:30:00+00:00"), {"resnet-wide", "vit-small"})
expect(param("data_cutoff", "LT", datetime.datetime(2025, 1, 1, 0, 30, tzinfo=UTC)), {"resnet-baseline"})
# CONTAINS: substring of string parameters only (case-sensitive).
expect(param("optimizer", "CONTAINS", "adam"), {"resnet-baseline", "vit-small", "mlp-tiny", "mlp-archived"})
expect(param("optimizer", "CONTAINS", "Adam"), {"vit-base"})
expect(param("notes", "CONTAINS", "probe"), {"Linear-Probe", "linear-probe-v2"})
expect(param("epochs", "CONTAINS", "1"), set())  # an integer parameter is no string
expect(param("data_cutoff", "CONTAINS", "2025"), set())  # nor is a datetime
expect(param("use_amp", "CONTAINS", "true"), set())  # nor a boolean

# seriesFilter on length and each aggregation.
expect(series_filter("train/loss", "LENGTH", "GT", 4), {"resnet-baseline", "vit-base"})
expect(series_filter("train/loss", "LENGTH", "EQ", 1), {"mlp-tiny", "linear-probe-v2"})
expect(series_filter("train/loss", "LENGTH", "LT", 3), {"resnet-deep", "mlp-tiny", "mlp-archived", "linear-probe-v2"})
expect(series_filter("train/loss", "AGGREGATION_MIN", "LT", 0.5), {"resnet-wide", "vit-base"})
expect(series_filter("train/loss", "AGGREGATION_MAX", "GT", 2.5), {"resnet-deep"})
expect(series_filter("train/loss", "AGGREGATION_LAST", "EQ", 0.5), {"resnet-baseline"})
expect(series_filter("val/acc", "AGGREGATION_LAST", "GT", 0.8), {"resnet-wide", "vit-base"})
expect(series_filter("no/such/series", "LENGTH", "GT", 0), set())

# summaryMetricFilter.
expect(summary("train/loss", "MIN", "LT", 0.5), {"resnet-wide", "vit-base"})
expect(summary("train/loss", "MAX", "GT", 2.1), {"resnet-wide", "resnet-deep"})
expect(summary("train/loss", "LAST", "EQ", 0.71), {"Linear-Probe"})
expect(summary("val/auc", "LAST", "GT", 0.8), {"gbm-depth4"})

# and / or / not, nested.
nested = {"type": "and", "filters": [
    eq("STATUS", "SUCCEEDED"),
    param("lr", "LT", 0.01),
    {"type": "not", "value": eq("TAG", "discarded")},
]}
expect(nested, {"resnet-baseline", "vit-base"})
expect({"type": "or", "filters": [eq("TAG", "trees"), {"type": "startsWith", "field": "EXPERIMENT_NAME",
                                                         "value": "vit"}]},
       {"gbm-depth4", "gbm-depth8", "vit-small", "vit-base"})
# not(parameterFilter) also matches experiments without that parameter.
expect({"type": "not", "value": param("lr", "GT", 0.01)},
       {"resnet-baseline", "resnet-wide", "vit-small", "vit-base", "gbm-depth4", "gbm-depth8", "empty-run"})
expect({"type": "and", "filters": [
    {"type": "or", "filters": [eq("TAG", "cnn"), eq("TAG", "transformer")]},
    {"type": "not", "value": eq("STATUS", "FAILED")},
    {"type": "not", "value": {"type": "not", "value": series_filter("val/acc", "LENGTH", "GT", 0)}},
]}, {"resnet-baseline", "resnet-wide", "vit-small", "vit-base"})
expect({"type": "and", "filters": []}, ALL)
expect({"type": "or", "filters": []}, set())

# ---------------------------------------------------------------------------------------------
# Search: the same filters as the SDK's typed models
# ---------------------------------------------------------------------------------------------

typed_nested = mm.SearchExperimentsAndFilter(filters=[
    mm.SearchExperimentsEqualsFilter(field="STATUS", value="SUCCEEDED"),
    mm.SearchExperimentsParameterFilter(parameter_name="lr", operator="LT", value=0.01),
    mm.SearchExperimentsNotFilter(value=mm.SearchExperimentsEqualsFilter(field="TAG", value="discarded")),
])
expect(typed_nested, {"resnet-baseline", "vit-base"})
expect(mm.SearchExperimentsOrFilter(filters=[
    mm.SearchExperimentsContainsFilter(field="EXPERIMENT_NAME", value="PROBE"),
    mm.SearchExperimentsStartsWithFilter(field="SERIES_NAME", value="val/auc"),
]), {"Linear-Probe", "linear-probe-v2", "gbm-depth4", "gbm-depth8"})
expect(mm.SearchExperimentsSeriesFilter(series_name="train/loss", field="LENGTH", operator="EQ", value=12),
       {"resnet-baseline"})
expect(mm.SearchExperimentsSummaryMetricFilter(series_name="val/acc", aggregation="MIN", operator="LT", value=0.56),
       {"resnet-baseline", "vit-small"})
expect(mm.SearchExperimentsParameterFilter(parameter_name="data_cutoff", operator="GT",
                                           value=datetime.datetime(2025, 3, 1, tzinfo=UTC)),
       {"resnet-wide"})
expect(mm.SearchExperimentsNotFilter(value=mm.SearchExperimentsEqualsFilter(field="BRANCH", value="master")),
       {"resnet-baseline", "resnet-wide", "resnet-deep", "gbm-depth4", "gbm-depth8"})

# ---------------------------------------------------------------------------------------------
# Search: rejected filters
# ---------------------------------------------------------------------------------------------

expect_invalid(eq("STATUS", "DONE"), "unsupported status")
expect_invalid(param("optimizer", "EQ", "adam"), "ISO-8601")  # EQ with a plain string
expect_invalid(param("use_amp", "GT", True), "boolean")
expect_invalid(param("lr", "LT", False), "boolean")
expect_invalid(param("optimizer", "CONTAINS", 3), "CONTAINS")
expect_invalid(param("lr", "EQ", None), "value")  # the client drops a None value
expect_invalid(param("lr", "EQ", [1, 2]), "object")
expect_invalid(series_filter("train/loss", "LENGTH", "GT", 2.5), "LENGTH")
expect_invalid(series_filter("train/loss", "AGGREGATION_MIN", "GT", "low"), "number")
expect_invalid(summary("train/loss", "MIN", "LT", "0.5"), "number")
expect_invalid(eq("TAG", 5), "string")
expect_invalid({"type": "contains", "field": "EXPERIMENT_NAME", "value": 1}, "string")
expect_invalid({"type": "and", "filters": [eq("STATUS", "SUCCEEDED"), eq("STATUS", "PAUSED")]}, "PAUSED")
expect_invalid({"type": "not", "value": param("x", "GT", "yesterday")}, "ISO-8601")

# ---------------------------------------------------------------------------------------------
# Ordering and paging
# ---------------------------------------------------------------------------------------------

by_name = sorted(NAMES)  # code point order: "Linear-Probe" before "empty-run"
assert search_all(order_by={"field": "EXPERIMENT_NAME", "direction": "ASC"}) == by_name
assert search_all(order_by={"field": "EXPERIMENT_NAME", "direction": "DESC"}) == by_name[::-1]
assert search_all(order_by={"field": "CREATED_TIME", "direction": "ASC"}) == NAMES
assert search_all(order_by=mm.SearchExperimentsOrderBy(field="CREATED_TIME", direction="DESC")) == NAMES[::-1]
assert search_all() == NAMES[::-1], "relevance is newest first"

# Pages of 5 until exhausted: no duplicates, no gaps, and the last page has no token.
pages, token = [], None
while True:
    page = Experiment.search(MODEL, order_by={"field": "EXPERIMENT_NAME", "direction": "ASC"},
                             page_size=5, page_token=token, preview=True)
    pages.append([NAME_OF[e.rid] for e in page.data])
    token = page.next_page_token
    if token is None:
        break
    assert isinstance(token, str) and token
assert [len(p) for p in pages] == [5, 5, 2], pages
assert [name for p in pages for name in p] == by_name
assert search_all(order_by={"field": "CREATED_TIME", "direction": "DESC"}, page_size=1) == NAMES[::-1]
filtered = {"type": "not", "value": eq("STATUS", "FAILED")}
assert search_all(where=filtered, page_size=3, order_by={"field": "CREATED_TIME", "direction": "ASC"}) == [
    n for n in NAMES if n not in {"resnet-deep", "gbm-depth8"}]
exact = Experiment.search(MODEL, where={"type": "eq", "field": "TAG", "value": "cnn"}, page_size=3, preview=True)
assert len(exact.data) == 3 and exact.next_page_token is None, "a full last page has no next page"
assert len(Experiment.search(MODEL, page_size=1000, preview=True).data) == 12  # clamped to 100, not refused

first = Experiment.search(MODEL, page_size=2, preview=True)
try:
    Experiment.search(MODEL, where=eq("TAG", "cnn"), page_size=2, page_token=first.next_page_token, preview=True)
    raise AssertionError("a page token of another query was accepted")
except foundry_sdk.BadRequestError as error:
    assert error.name == "InvalidPageToken", error
for bad_token in ["garbage", "v1.bm90LWpzb24"]:
    try:
        Experiment.search(MODEL, page_token=bad_token, preview=True)
        raise AssertionError(f"page token {bad_token!r} was accepted")
    except foundry_sdk.BadRequestError as error:
        assert error.name == "InvalidPageToken" and error.parameters["pageToken"] == bad_token, error
for bad_size in [0, -3]:
    try:
        Experiment.search(MODEL, page_size=bad_size, preview=True)
        raise AssertionError(f"page size {bad_size} was accepted")
    except foundry_sdk.BadRequestError as error:
        assert error.name == "InvalidPageSize", error

# The other model sees only its own experiment.
other = Experiment.search(OTHER_MODEL, preview=True)
assert [e.rid for e in other.data] == [OTHER_RID] and other.data[0].model_rid == OTHER_MODEL

# ---------------------------------------------------------------------------------------------
# Series JSON
# ---------------------------------------------------------------------------------------------

LOSS = EXPERIMENTS[0]["series"]["train/loss"]
points, offset = [], 0
while True:
    page = Experiment.Series.json(MODEL, RID["resnet-baseline"], "train/loss", offset=offset, page_size=5,
                                  preview=True)
    assert isinstance(page, mm.DoubleSeriesV1), page
    points.extend(page.series)
    offset += len(page.series)
    if len(page.series) < 5:
        break
assert offset == 12 and len(points) == 12, points
assert [p.value for p in points] == LOSS
assert [p.step for p in points] == list(range(12))
assert [p.timestamp for p in points] == [T0 + 1000 * i for i in range(12)]
whole = Experiment.Series.json(MODEL, RID["resnet-baseline"], "train/loss", preview=True)
assert [p.value for p in whole.series] == LOSS, "the default page (200) holds the whole series"
middle = Experiment.Series.json(MODEL, RID["resnet-baseline"], "train/loss", offset=3, page_size=2, preview=True)
assert [(p.step, p.value) for p in middle.series] == [(3, 0.9), (4, 0.8)], middle
assert Experiment.Series.json(MODEL, RID["resnet-baseline"], "train/loss", offset=12, preview=True).series == []
assert Experiment.Series.json(MODEL, RID["resnet-baseline"], "train/loss", offset=500, preview=True).series == []
acc_points = Experiment.Series.json(MODEL, RID["vit-base"], "val/acc", preview=True).series
assert [(p.value, p.step, p.timestamp) for p in acc_points] == [(0.9, 0, T0)], acc_points
try:
    Experiment.Series.json(MODEL, RID["resnet-baseline"], "train/loss", page_size=0, preview=True)
    raise AssertionError("page size 0 was accepted")
except foundry_sdk.BadRequestError as error:
    assert error.name == "InvalidPageSize", error

# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------

def expect_error(call, error_class, name, parameters=None):
    try:
        call()
    except error_class as error:
        assert error.name == name, f"{name} expected, got {error.name}: {error.parameters}"
        for key, value in (parameters or {}).items():
            assert error.parameters.get(key) == value, f"{name}.{key}: {error.parameters}"
        uuid.UUID(error.error_instance_id)
        return
    raise AssertionError(f"{name} expected, the call succeeded")


missing_rid = "ri.models.main.experiment.ffffffffffffffffffffffffffffffff"
expect_error(lambda: Experiment.get(MODEL, missing_rid, preview=True),
             model_errors.ModelExperimentNotFound, "ModelExperimentNotFound",
             {"modelRid": MODEL, "experimentRid": missing_rid})
# Another model's experiment is not found under this one.
expect_error(lambda: Experiment.get(MODEL, OTHER_RID, preview=True),
             model_errors.ModelExperimentNotFound, "ModelExperimentNotFound",
             {"modelRid": MODEL, "experimentRid": OTHER_RID})
unknown_model = f"ri.models.main.model.{uuid.uuid4()}"
expect_error(lambda: Experiment.get(unknown_model, RID["resnet-baseline"], preview=True),
             model_errors.ModelExperimentNotFound, "ModelExperimentNotFound", {"modelRid": unknown_model})
expect_error(lambda: Experiment.search(unknown_model, preview=True),
             foundry_sdk.NotFoundError, "ModelNotFound", {"modelRid": unknown_model})
expect_error(lambda: client.models.Model.get(unknown_model, preview=True),
             foundry_sdk.NotFoundError, "ModelNotFound", {"modelRid": unknown_model})
expect_error(lambda: Experiment.Series.json(MODEL, RID["resnet-baseline"], "no/such series", preview=True),
             model_errors.ExperimentSeriesNotFound, "ExperimentSeriesNotFound",
             {"modelRid": MODEL, "experimentRid": RID["resnet-baseline"], "seriesName": "no/such series"})
expect_error(lambda: Experiment.Series.json(MODEL, RID["gbm-depth4"], "train/loss", preview=True),
             model_errors.ExperimentSeriesNotFound, "ExperimentSeriesNotFound", {"seriesName": "train/loss"})
expect_error(lambda: Experiment.Series.json(MODEL, missing_rid, "train/loss", preview=True),
             model_errors.ModelExperimentNotFound, "ModelExperimentNotFound", {"experimentRid": missing_rid})

# Preview endpoints refuse callers that do not opt in to the preview.
expect_error(lambda: Experiment.get(MODEL, RID["resnet-baseline"]),
             foundry_sdk.BadRequestError, "ApiFeaturePreviewUsageOnly")
expect_error(lambda: Experiment.search(MODEL), foundry_sdk.BadRequestError, "ApiFeaturePreviewUsageOnly")
expect_error(lambda: Experiment.Series.json(MODEL, RID["resnet-baseline"], "train/loss"),
             foundry_sdk.BadRequestError, "ApiFeaturePreviewUsageOnly")
expect_error(lambda: Experiment.get(MODEL, RID["resnet-baseline"], preview=False),
             foundry_sdk.BadRequestError, "ApiFeaturePreviewUsageOnly")

# A bad token is an authentication failure.
stranger = foundry_sdk.FoundryClient(auth=foundry_sdk.UserTokenAuth("not-a-key"), hostname=HOST,
                                     config=foundry_sdk.Config(scheme="http"))
try:
    stranger.models.Model.Experiment.get(MODEL, RID["resnet-baseline"], preview=True)
    raise AssertionError("an unknown token was accepted")
except foundry_sdk.UnauthorizedError:
    pass

# The wrapper-key form of the API docs is accepted too (the SDK itself only sends the flat form).
wrapper = json.dumps({"where": {"and": {"filters": [
    {"eq": {"field": "STATUS", "value": "SUCCEEDED"}},
    {"parameterFilter": {"parameterName": "lr", "operator": "LT", "value": 0.01}},
]}}}).encode()
request = urllib.request.Request(
    f"{URL}/api/v2/models/{MODEL}/experiments/search?preview=true", data=wrapper, method="POST",
    headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
with urllib.request.urlopen(request, timeout=30) as response:
    body = json.loads(response.read())
assert {NAME_OF[e["rid"]] for e in body["data"]} == {"resnet-baseline", "vit-base"}, body

# ---------------------------------------------------------------------------------------------
# Parquet series and artifact tables (E4–E6)
# ---------------------------------------------------------------------------------------------
import pyarrow as pa  # noqa: E402  (the venv pins it with the SDK)

series_table = Experiment.Series.parquet(MODEL, RID["resnet-baseline"], "train/loss", preview=True).to_pyarrow()
assert series_table.column_names == ["value", "timestamp", "step"], series_table.schema
assert series_table.column("value").to_pylist() == LOSS
assert series_table.column("step").to_pylist() == list(range(len(LOSS)))
assert series_table.schema.field("timestamp").type == pa.int64()
expect_error(lambda: Experiment.Series.parquet(MODEL, RID["resnet-baseline"], "no/such", preview=True),
             model_errors.ExperimentSeriesNotFound, "ExperimentSeriesNotFound")

# Table artifacts come in through Cairn's own API (Foundry's has no writes).
table_key = RID["resnet-baseline"].rsplit(".", 1)[1]
rows = [[i, "cat" if i % 2 else "dog", i / 10, i % 3 == 0, f"2025-01-0{1 + i % 9}T00:00:00Z"] for i in range(25)]
upload = json.dumps({
    "description": "Validation predictions",
    "columns": [{"name": "id", "type": "integer"}, {"name": "label", "type": "string"},
                {"name": "score", "type": "double"}, {"name": "hit", "type": "boolean"},
                {"name": "at", "type": "datetime"}],
    "rows": rows,
}).encode()
put = urllib.request.Request(f"{URL}/api/cairn/v1/experiments/{table_key}/tables/eval%2Fpredictions", data=upload,
                             method="PUT", headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
with urllib.request.urlopen(put, timeout=30) as response:
    assert response.status in (200, 201), response.status

with_table = Experiment.get(MODEL, RID["resnet-baseline"], preview=True)
artifact = with_table.artifacts["eval/predictions"]
assert artifact.name == "eval/predictions" and artifact.description == "Validation predictions", artifact
assert artifact.details.row_count == 25 and artifact.size_bytes > 0, artifact

first = json.loads(Experiment.ArtifactTable.json(MODEL, RID["resnet-baseline"], "eval/predictions", preview=True))
assert len(first) == 10, "the default page holds 10 rows"
assert first[0] == {"id": 0, "label": "dog", "score": 0.0, "hit": True, "at": "2025-01-01T00:00:00.000Z"}, first[0]
paged, offset = [], 0
while True:
    page = json.loads(Experiment.ArtifactTable.json(MODEL, RID["resnet-baseline"], "eval/predictions", offset=offset,
                                                    page_size=7, preview=True))
    paged.extend(page)
    offset += len(page)
    if len(page) < 7:
        break
assert [r["id"] for r in paged] == list(range(25)), paged
table = Experiment.ArtifactTable.parquet(MODEL, RID["resnet-baseline"], "eval/predictions", preview=True).to_pyarrow()
assert table.num_rows == 25 and table.column_names == ["id", "label", "score", "hit", "at"], table.schema
assert table.column("label").to_pylist()[:2] == ["dog", "cat"]
assert table.column("score").to_pylist()[3] == 0.3
expect_error(lambda: Experiment.ArtifactTable.json(MODEL, RID["resnet-baseline"], "nope", preview=True),
             model_errors.ExperimentArtifactNotFound, "ExperimentArtifactNotFound")

print("OK experiments_check")
