"""The fluent tracking API end to end, read back exactly through MLflow, Comet and Foundry.

set_experiment, start_run (a nested run too), log_param(s), log_metric(s) with steps and
timestamps (NaN and infinity included), set_tag(s), log_input of pandas and numpy datasets,
end_run; then MlflowClient reads, the errors MLflow's client raises (a changed param, unknown
run, duplicate experiment, writes to a deleted run) and the delete/restore round trips of a run
and of an experiment.
"""

import math

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import ViewType

from _compat import (IS_3, REFERENCE, SUFFIX, T0, check, comet, comet_values, eq, foundry_experiment,
                     foundry_series, ok, raises_mlflow, same_float, wire_float)

client = MlflowClient()
EXPERIMENT = f"compat-tracking-{SUFFIX}"

experiment = mlflow.set_experiment(EXPERIMENT)
eq(experiment.name, EXPERIMENT, "experiment name")
eq(experiment.lifecycle_stage, "active", "experiment lifecycle")
eq(experiment.artifact_location, f"mlflow-artifacts:/{experiment.experiment_id}", "artifact_location")
EXP_ID = experiment.experiment_id
eq(client.get_experiment_by_name(EXPERIMENT).experiment_id, EXP_ID, "get_experiment_by_name")
check(client.get_experiment_by_name(f"absent-{SUFFIX}") is None, "an unknown name reads as None")

PARAMS = {"lr": "0.01", "epochs": "10", "optimizer": "adam", "empty": "", "long": "x" * 500,
          "unicode": "ünïcødé ✓"}
LOSS = [(0.5, T0, 0), (0.25, T0 + 1000, 1), (0.125, T0 + 2000, 2)]
TAGS = {"team": "vision", "stage": "dev", "note": "tab\tand\nnewline"}

df = pd.DataFrame({"x": [1.0, 2.5, 3.0], "y": [0, 1, 0]})
pandas_ds = mlflow.data.from_pandas(df, source="s3://bucket/train.csv", name="train-df", targets="y")
numpy_ds = mlflow.data.from_numpy(np.arange(6, dtype=np.float64).reshape(3, 2), source="s3://bucket/x.npy",
                                  name="features")

with mlflow.start_run(run_name="parent", description="the parent run") as parent:
    RUN = parent.info.run_id
    eq(parent.info.experiment_id, EXP_ID, "run experiment")
    eq(parent.info.status, "RUNNING", "status while running")
    eq(parent.info.artifact_uri, f"mlflow-artifacts:/{EXP_ID}/{RUN}/artifacts", "run artifact_uri")
    mlflow.log_param("lr", 0.01)
    mlflow.log_params({k: v for k, v in PARAMS.items() if k != "lr"})
    for value, timestamp, step in LOSS:
        mlflow.log_metric("loss", value, step=step, timestamp=timestamp)
    mlflow.log_metrics({"acc": 0.9, "f1": 1 / 3}, step=2, timestamp=T0 + 2000)
    mlflow.log_metric("odd", float("nan"), step=0, timestamp=T0)
    mlflow.log_metric("big", float("inf"), step=0, timestamp=T0)
    mlflow.log_metric("precise", 0.1 + 0.2, step=7, timestamp=T0 + 7)
    mlflow.set_tag("team", TAGS["team"])
    mlflow.set_tags({k: v for k, v in TAGS.items() if k != "team"})
    mlflow.log_input(pandas_ds, context="training")
    mlflow.log_input(numpy_ds, context="eval")
    with mlflow.start_run(run_name="child", nested=True) as nested:
        CHILD = nested.info.run_id
        mlflow.log_metric("child_loss", 1.5, step=3, timestamp=T0 + 3)
    # A changed param is MLflow's INVALID_PARAMETER_VALUE; the same value again is fine.
    client.log_param(RUN, "lr", "0.01")
    raises_mlflow(lambda: client.log_param(RUN, "lr", "0.02"), "INVALID_PARAMETER_VALUE",
                  "Changing param values is not allowed")

run = client.get_run(RUN)
eq(run.info.status, "FINISHED", "status after end_run")
eq(run.info.run_name, "parent", "run_name")
eq(run.info.lifecycle_stage, "active", "lifecycle")
check(run.info.end_time is not None and run.info.end_time >= run.info.start_time, "end_time after start_time")
eq(run.data.params, PARAMS, "params")
for key, value in TAGS.items():
    eq(run.data.tags.get(key), value, f"tag {key}")
eq(run.data.tags.get("mlflow.runName"), "parent", "tag mlflow.runName")
eq(run.data.tags.get("mlflow.note.content"), "the parent run", "description tag")
check(run.data.tags.get("mlflow.user"), "mlflow.user is set")
eq(run.info.user_id, run.data.tags["mlflow.user"], "user_id is the mlflow.user tag")
metrics = run.data.metrics
eq(metrics["loss"], 0.125, "latest loss")
eq(metrics["acc"], 0.9, "acc")
eq(metrics["f1"], 1 / 3, "f1")
eq(metrics["precise"], 0.1 + 0.2, "precise")
check(math.isnan(metrics["odd"]), f"NaN metric reads NaN, got {metrics['odd']!r}")
# MLflow's SQL store clamps infinity to the largest double; Cairn keeps it.
check(metrics["big"] >= 1.7976931348623157e308, f"infinite metric, got {metrics['big']!r}")
history = [(m.value, m.timestamp, m.step) for m in client.get_metric_history(RUN, "loss")]
eq(history, LOSS, "loss history")
eq(client.get_metric_history(RUN, "never-logged"), [], "history of an unknown key")

inputs = sorted(run.inputs.dataset_inputs, key=lambda i: i.dataset.name)
eq([i.dataset.name for i in inputs], ["features", "train-df"], "dataset names")
for logged, source in zip(inputs, [numpy_ds, pandas_ds]):
    eq(logged.dataset.digest, source.digest, f"{source.name} digest")
    eq(logged.dataset.source_type, source.source.__class__._get_source_type(), f"{source.name} source type")
    eq(logged.dataset.source, source.source.to_json(), f"{source.name} source")
    eq(logged.dataset.schema, source.to_dict()["schema"], f"{source.name} schema")
    eq(logged.dataset.profile, source.to_dict()["profile"], f"{source.name} profile")
eq({i.dataset.name: {t.key: t.value for t in i.tags}.get("mlflow.data.context") for i in inputs},
   {"features": "eval", "train-df": "training"}, "dataset contexts")

child = client.get_run(CHILD)
eq(child.data.tags.get("mlflow.parentRunId"), RUN, "nested run's parent")
eq(child.info.status, "FINISHED", "nested run status")
eq(child.data.metrics, {"child_loss": 1.5}, "nested run metrics")
nested_runs = client.search_runs([EXP_ID], f"tags.mlflow.parentRunId = '{RUN}'")
eq([r.info.run_id for r in nested_runs], [CHILD], "search by parent")

# Errors as the client raises them.
raises_mlflow(lambda: client.get_run("0" * 32), "RESOURCE_DOES_NOT_EXIST")
raises_mlflow(lambda: client.create_experiment(EXPERIMENT), "RESOURCE_ALREADY_EXISTS")
raises_mlflow(lambda: client.get_experiment("123456789"), "RESOURCE_DOES_NOT_EXIST")

# A failed run.
failed = client.create_run(EXP_ID, run_name="broken", start_time=T0)
client.set_terminated(failed.info.run_id, status="FAILED", end_time=T0 + 5)
failed = client.get_run(failed.info.run_id)
eq((failed.info.status, failed.info.start_time, failed.info.end_time), ("FAILED", T0, T0 + 5), "failed run")

# Delete and restore a run: hidden from active searches, still readable, writes refused.
client.delete_run(CHILD)
eq(client.get_run(CHILD).info.lifecycle_stage, "deleted", "deleted run lifecycle")
active = {r.info.run_id for r in client.search_runs([EXP_ID])}
deleted = {r.info.run_id for r in client.search_runs([EXP_ID], run_view_type=ViewType.DELETED_ONLY)}
check(CHILD not in active and CHILD in deleted, "a deleted run is only in DELETED_ONLY searches")
# MLflow's SQL store says INVALID_PARAMETER_VALUE; Cairn INVALID_STATE (docs/api/mlflow.md). Both are 400.
raises_mlflow(lambda: client.log_metric(CHILD, "late", 1.0), "INVALID_PARAMETER_VALUE" if REFERENCE else "INVALID_STATE",
              "must be in the 'active' state")
client.restore_run(CHILD)
eq(client.get_run(CHILD).info.lifecycle_stage, "active", "restored run lifecycle")
eq(client.get_run(CHILD).data.metrics, {"child_loss": 1.5}, "a restored run keeps its data")

if not REFERENCE:
    # The same run through Comet: parameters (as text), metric points, tags as "others".
    eq({k: v for k, v in comet_values("parameters", RUN).items() if k in PARAMS}, PARAMS, "Comet parameters")
    others = comet_values("log-other", RUN)
    for key, value in TAGS.items():
        eq(others.get(key), value, f"Comet other {key}")
    points = comet("experiment/metrics/get-metric", experimentKey=RUN, metricName="loss")["metrics"]
    eq([(wire_float(p["metricValue"]), p["timestamp"], p["step"]) for p in points], LOSS, "Comet loss points")
    odd = comet("experiment/metrics/get-metric", experimentKey=RUN, metricName="odd")["metrics"]
    eq([p["metricValue"] for p in odd], ["NaN"], "Comet NaN point")
    big = comet("experiment/metrics/get-metric", experimentKey=RUN, metricName="big")["metrics"]
    eq([p["metricValue"] for p in big], ["Infinity"], "Comet infinite point")
    metadata = comet("experiment/metadata", experimentKey=RUN)
    eq(metadata["experimentName"], "parent", "Comet experiment name")
    eq(metadata["projectId"], EXP_ID, "Comet project id is the MLflow experiment id")

    # And through Foundry.
    fexp = foundry_experiment(EXP_ID, RUN)
    eq(fexp["status"], "SUCCEEDED", "Foundry status of a FINISHED run")
    fparams = {p["name"]: p["value"] for p in fexp["parameters"]}
    for key, value in PARAMS.items():
        eq(fparams.get(key), {"type": "string", "value": value}, f"Foundry parameter {key}")
    series = {s["name"]: s for s in fexp["series"]}
    eq(series["loss"]["length"], 3, "Foundry loss length")
    eq({k: series["loss"]["value"][k] for k in ("min", "max", "last")},
       {"min": 0.125, "max": 0.5, "last": 0.125}, "Foundry loss summary")
    eq([(p["value"], p["timestamp"], p["step"]) for p in foundry_series(EXP_ID, RUN, "loss")], LOSS,
       "Foundry loss points")
    eq(foundry_experiment(EXP_ID, failed.info.run_id)["status"], "FAILED", "Foundry status of a FAILED run")

# Delete and restore the experiment: its runs go and come back with it.
client.delete_experiment(EXP_ID)
gone = client.get_experiment(EXP_ID)
eq(gone.lifecycle_stage, "deleted", "deleted experiment lifecycle")
check(gone.last_update_time >= experiment.last_update_time, "deletion updates last_update_time")
eq(client.get_experiment_by_name(EXPERIMENT).lifecycle_stage, "deleted", "a deleted experiment by name")
eq(client.get_run(RUN).info.lifecycle_stage, "deleted", "a deleted experiment's runs are deleted")
names = {e.name for e in client.search_experiments(view_type=ViewType.DELETED_ONLY)}
check(EXPERIMENT in names, "a deleted experiment is in DELETED_ONLY")
check(EXPERIMENT not in {e.name for e in client.search_experiments()}, "a deleted experiment is not active")
raises_mlflow(lambda: client.create_experiment(EXPERIMENT), "RESOURCE_ALREADY_EXISTS")
client.restore_experiment(EXP_ID)
eq(client.get_experiment(EXP_ID).lifecycle_stage, "active", "restored experiment")
eq(client.get_run(RUN).info.lifecycle_stage, "active", "restored experiment's run")
eq(client.get_run(RUN).data.params, PARAMS, "restored run params")

# Renaming, and experiment tags.
client.rename_experiment(EXP_ID, f"{EXPERIMENT}-renamed")
client.set_experiment_tag(EXP_ID, "owner", "ada")
renamed = client.get_experiment(EXP_ID)
eq((renamed.name, renamed.tags.get("owner")), (f"{EXPERIMENT}-renamed", "ada"), "renamed and tagged experiment")

ok("tracking_check")
