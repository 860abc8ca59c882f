"""MlflowClient.search_experiments and search_runs: filters on metrics, params, tags and
attributes (=, !=, <, >, LIKE, ILIKE, IN), order_by with MLflow's placement of missing values,
paging with max_results and page tokens, and the pandas mlflow.search_runs.
"""

import time

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

from _compat import SUFFIX, T0, check, eq, ok, raises_mlflow

client = MlflowClient()
PREFIX = f"compat-search-{SUFFIX}"

# Experiments: three with tags, created in order.
exp_ids = {}
for name, tags in [("alpha", {"owner": "ada", "area": "vision"}), ("beta", {"owner": "bob"}),
                   ("gamma", {"owner": "ada", "area": "nlp"})]:
    exp_ids[name] = client.create_experiment(f"{PREFIX}-{name}", tags=tags)
    time.sleep(0.01)  # distinct creation times: the default order is creation_time DESC


def experiment_names(**kwargs):
    return [e.name.removeprefix(f"{PREFIX}-") for e in client.search_experiments(**kwargs)]


eq(experiment_names(filter_string=f"name LIKE '{PREFIX}-%'", order_by=["name ASC"]),
   ["alpha", "beta", "gamma"], "experiments by name LIKE, name ASC")
eq(experiment_names(filter_string=f"name LIKE '{PREFIX}-%'", order_by=["name DESC"]),
   ["gamma", "beta", "alpha"], "name DESC")
eq(experiment_names(filter_string=f"name LIKE '{PREFIX}-%'"), ["gamma", "beta", "alpha"],
   "default order: newest first")
eq(experiment_names(filter_string=f"name LIKE '{PREFIX}-%' AND tags.owner = 'ada'", order_by=["name ASC"]),
   ["alpha", "gamma"], "experiment tag filter")
eq(experiment_names(filter_string=f"name ILIKE '{PREFIX.upper()}-B%'"), ["beta"], "experiment name ILIKE")
eq(experiment_names(filter_string=f"name = '{PREFIX}-gamma'"), ["gamma"], "experiment name =")
eq(experiment_names(filter_string=f"name LIKE '{PREFIX}-%' AND tags.area LIKE '%i%'", order_by=["name ASC"]),
   ["alpha"], "experiment tag LIKE")
page = client.search_experiments(max_results=2, filter_string=f"name LIKE '{PREFIX}-%'", order_by=["name ASC"])
eq([e.name for e in page], [f"{PREFIX}-alpha", f"{PREFIX}-beta"], "first experiment page")
check(page.token, "a next page token while more remain")
page = client.search_experiments(max_results=2, filter_string=f"name LIKE '{PREFIX}-%'", order_by=["name ASC"],
                                 page_token=page.token)
eq([e.name for e in page], [f"{PREFIX}-gamma"], "second experiment page")
check(not page.token, "no token on the last page")

# Runs in one experiment, with explicit start times so the default order is known.
EXP = exp_ids["alpha"]
RUNS = [
    # name, start offset, status, metrics {key: [(value, step)]}, params, tags
    ("run-a", 1, "FINISHED", {"acc": [(0.5, 0), (0.8, 1)], "loss": [(0.4, 0)]}, {"model": "cnn", "lr": "0.1"},
     {"team": "a", "kind": "base"}),
    ("run-b", 2, "FINISHED", {"acc": [(0.9, 0)], "loss": [(0.2, 0)]}, {"model": "CNN-wide", "lr": "0.01"},
     {"team": "b"}),
    ("run-c", 3, "FAILED", {"acc": [(0.7, 0)]}, {"model": "mlp", "lr": "0.1"}, {"team": "a"}),
    ("run-d", 4, "RUNNING", {"loss": [(0.3, 5), (0.1, 2)]}, {"model": "mlp"}, {"team": "c", "kind": "probe"}),
    ("other-e", 5, "FINISHED", {}, {}, {}),
]
ids = {}
for name, offset, status, metrics, params, tags in RUNS:
    run = client.create_run(EXP, start_time=T0 + offset * 1000, run_name=name)
    ids[name] = run.info.run_id
    points = [Metric(key, value, T0 + step, step) for key, series in metrics.items() for value, step in series]
    client.log_batch(run.info.run_id, metrics=points, params=[Param(k, v) for k, v in params.items()],
                     tags=[RunTag(k, v) for k, v in tags.items()])
    if status != "RUNNING":
        client.set_terminated(run.info.run_id, status=status, end_time=T0 + offset * 1000 + 500)
name_of = {run_id: name for name, run_id in ids.items()}


def runs(filter_string="", order_by=None, **kwargs):
    return [name_of[r.info.run_id] for r in client.search_runs([EXP], filter_string, order_by=order_by, **kwargs)]


eq(runs(), ["other-e", "run-d", "run-c", "run-b", "run-a"], "default order: start_time DESC")
# Metrics compare the latest point: the greatest (step, timestamp), not the last logged.
eq(runs("metrics.acc > 0.75"), ["run-b", "run-a"], "metric >")
eq(runs("metrics.acc >= 0.7 AND metrics.acc < 0.85"), ["run-c", "run-a"], "metric range")
eq(runs("metrics.loss = 0.3"), ["run-d"], "latest by step (step 5 logged before step 2)")
eq(runs("metrics.loss != 0.3"), ["run-b", "run-a"], "!= leaves out runs without the metric")
eq(runs("params.model = 'mlp'"), ["run-d", "run-c"], "param =")
eq(runs("params.model LIKE 'cnn%'"), ["run-a"], "param LIKE is case-sensitive")
eq(runs("params.model ILIKE 'cnn%'"), ["run-b", "run-a"], "param ILIKE")
eq(runs("params.lr != '0.1'"), ["run-b"], "param !=")
eq(runs("tags.team = 'a'"), ["run-c", "run-a"], "tag =")
eq(runs("tags.kind LIKE '%o%'"), ["run-d"], "tag LIKE")
eq(runs("tags.`team` != 'a'"), ["run-d", "run-b"], "backticked tag !=")
eq(runs("attributes.status = 'FINISHED'"), ["other-e", "run-b", "run-a"], "status =")
eq(runs("attributes.status != 'FINISHED'"), ["run-d", "run-c"], "status !=")
eq(runs("attributes.run_name LIKE 'run-%' AND params.lr = '0.1'"), ["run-c", "run-a"], "run_name LIKE AND param")
eq(runs("run_name = 'other-e'"), ["other-e"], "bare attribute")
eq(runs(f"attributes.start_time > {T0 + 3000}"), ["other-e", "run-d"], "start_time >")
eq(runs(f"attributes.run_id IN ('{ids['run-a']}', '{ids['run-c']}')"), ["run-c", "run-a"], "run_id IN")
eq(runs("tags.mlflow.runName = 'run-b'"), ["run-b"], "the mlflow.runName tag")
eq(runs("metrics.acc > 0.5 AND params.model != 'mlp' AND tags.team = 'b'"), ["run-b"], "three entities")



def ordered(order_by, groups, what):
    """Runs ordered by order_by: `groups` in sequence, each a set of runs that tie on it. Cairn
    orders by the first item only and breaks ties by run_id (docs/api/mlflow.md); MLflow by every
    item, then start_time DESC: either order is one of the permutations within each group."""
    names = runs(order_by=order_by)
    at = 0
    for group in groups:
        eq(set(names[at:at + len(group)]), set(group), f"{what}: runs {at}..{at + len(group) - 1} of {names}")
        at += len(group)
    eq(len(names), at, f"{what}: run count")


# Missing values sort last in both directions.
ordered(["metrics.acc DESC"], [{"run-b"}, {"run-a"}, {"run-c"}, {"other-e", "run-d"}], "metric DESC")
ordered(["metrics.acc ASC"], [{"run-c"}, {"run-a"}, {"run-b"}, {"other-e", "run-d"}], "metric ASC")
ordered(["metrics.loss DESC"], [{"run-a"}, {"run-d"}, {"run-b"}, {"other-e", "run-c"}], "latest metric DESC")
ordered(["params.lr ASC", "attributes.run_name DESC"], [{"run-b"}, {"run-a", "run-c"}, {"run-d", "other-e"}],
        "param ASC (then run_name DESC in MLflow)")
ordered(["tags.team DESC"], [{"run-d"}, {"run-b"}, {"run-a", "run-c"}, {"other-e"}], "tag DESC")
ordered(["params.model ASC"], [{"run-b"}, {"run-a"}, {"run-c", "run-d"}, {"other-e"}], "param text order")
eq(runs(order_by=["attributes.start_time ASC"]), ["run-a", "run-b", "run-c", "run-d", "other-e"], "start_time ASC")
eq(runs(order_by=["attributes.run_name ASC"]), ["other-e", "run-a", "run-b", "run-c", "run-d"], "run_name ASC")
ordered(["attributes.end_time DESC"], [{"other-e"}, {"run-c"}, {"run-b"}, {"run-a"}, {"run-d"}], "end_time DESC")

# Paging.
seen = []
token = None
while True:
    page = client.search_runs([EXP], max_results=2, page_token=token)
    seen.extend(name_of[r.info.run_id] for r in page)
    check(len(page) <= 2, "a page holds at most max_results runs")
    token = page.token
    if not token:
        break
eq(seen, ["other-e", "run-d", "run-c", "run-b", "run-a"], "runs paged 2 at a time")

# Over several experiments, and the pandas variant.
client.create_run(exp_ids["beta"], start_time=T0, run_name="beta-run")
both = client.search_runs([EXP, exp_ids["beta"]], "attributes.run_name LIKE '%-run'")
eq([r.info.run_name for r in both], ["beta-run"], "search over two experiments")
frame = mlflow.search_runs([EXP], "params.model = 'mlp'", order_by=["attributes.start_time ASC"])
eq(list(frame["tags.mlflow.runName"]), ["run-c", "run-d"], "pandas search_runs names")
eq(list(frame["params.model"]), ["mlp", "mlp"], "pandas params column")
eq(list(frame["status"]), ["FAILED", "RUNNING"], "pandas status column")
eq(frame["metrics.acc"].iloc[0], 0.7, "pandas metric column")

# Errors.
raises_mlflow(lambda: client.search_runs([EXP], "metrics.acc >> 1"), "INVALID_PARAMETER_VALUE")
raises_mlflow(lambda: client.search_runs([EXP], "nonsense.acc > 1"), "INVALID_PARAMETER_VALUE")
raises_mlflow(lambda: client.search_runs([EXP], order_by=["metrics.acc SIDEWAYS"]), "INVALID_PARAMETER_VALUE")

ok("search_check")
