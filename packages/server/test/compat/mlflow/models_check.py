"""Models: mlflow.sklearn.log_model with registered_model_name, more versions with
mlflow.register_model, aliases, stage transitions, pyfunc.load_model("models:/…") predicting
exactly what the fitted model predicts; the registry read back through Comet; and
mlflow.autolog of a small scikit-learn fit.
"""

import mlflow
import mlflow.pyfunc
import mlflow.sklearn
import numpy as np
from mlflow import MlflowClient
from sklearn.linear_model import LinearRegression, LogisticRegression

from _compat import IS_3, REFERENCE, SUFFIX, WORKSPACE, check, comet, eq, foundry_experiment, ok, raises_mlflow

client = MlflowClient()
mlflow.set_experiment(f"compat-models-{SUFFIX}")
NAME = f"CompatModel-{SUFFIX}"

X = np.array([[0.0, 1.0], [1.0, 0.5], [2.0, 2.5], [3.0, 1.0], [4.0, 3.5], [5.0, 0.0]])
y = np.array([0, 0, 1, 0, 1, 1])
model = LogisticRegression(C=2.0).fit(X, y)
expected = model.predict_proba(X)[:, 1]


def log_model(sk_model, **kwargs):
    # MLflow 3 names a model with `name`; 2.x with `artifact_path`.
    return mlflow.sklearn.log_model(sk_model, **({"name": "model"} if IS_3 else {"artifact_path": "model"}), **kwargs)


with mlflow.start_run(run_name="train") as run:
    RUN = run.info.run_id
    mlflow.log_param("C", 2.0)
    info = log_model(model, registered_model_name=NAME, input_example=X[:2])
eq(str(info.registered_model_version), "1", "registered version")

v1 = client.get_model_version(NAME, "1")
eq((v1.name, v1.version, v1.run_id, v1.status, v1.current_stage), (NAME, "1", RUN, "READY", "None"), "version 1")
registered = client.get_registered_model(NAME)
eq(registered.name, NAME, "registered model name (case kept)")
eq([v.version for v in registered.latest_versions], ["1"], "latest versions")

# Loading back and predicting: the pyfunc of a sklearn classifier predicts labels.
loaded = mlflow.pyfunc.load_model(f"models:/{NAME}/1")
eq(loaded.predict(X).tolist(), model.predict(X).tolist(), "pyfunc predictions")
check(np.array_equal(mlflow.sklearn.load_model(f"models:/{NAME}/1").predict_proba(X)[:, 1], expected),
      "sklearn flavour probabilities, exactly")

# A second version from the same run's files, aliases, stages.
v2 = mlflow.register_model(f"runs:/{RUN}/model", NAME) if not IS_3 else mlflow.register_model(info.model_uri, NAME)
eq(v2.version, "2", "second version")
client.set_registered_model_alias(NAME, "champion", "1")
client.set_registered_model_alias(NAME, "challenger", "2")
eq(client.get_model_version_by_alias(NAME, "champion").version, "1", "champion alias")
eq(sorted(client.get_registered_model(NAME).aliases.items()), [("challenger", "2"), ("champion", "1")], "aliases")
client.set_registered_model_alias(NAME, "champion", "2")
eq(client.get_model_version_by_alias(NAME, "champion").version, "2", "a moved alias")
client.delete_registered_model_alias(NAME, "challenger")
eq(client.get_registered_model(NAME).aliases, {"champion": "2"}, "alias deleted")
# MLflow answers an unknown alias with INVALID_PARAMETER_VALUE, not RESOURCE_DOES_NOT_EXIST.
raises_mlflow(lambda: client.get_model_version_by_alias(NAME, "challenger"), "INVALID_PARAMETER_VALUE",
              "alias challenger not found")
eq(mlflow.pyfunc.load_model(f"models:/{NAME}@champion").predict(X).tolist(), model.predict(X).tolist(),
   "loading by alias")

staged = client.transition_model_version_stage(NAME, "1", "Staging")
eq(staged.current_stage, "Staging", "transition to Staging")
client.transition_model_version_stage(NAME, "2", "Staging")
promoted = client.transition_model_version_stage(NAME, "2", "Production", archive_existing_versions=True)
eq(promoted.current_stage, "Production", "transition to Production")
eq(client.get_model_version(NAME, "1").current_stage, "Staging", "another stage is left alone")
eq([v.version for v in client.get_latest_versions(NAME, ["Production"])], ["2"], "latest Production")
client.transition_model_version_stage(NAME, "1", "Production", archive_existing_versions=True)
eq(client.get_model_version(NAME, "2").current_stage, "Archived", "archive_existing_versions")
eq(mlflow.pyfunc.load_model(f"models:/{NAME}/Production").predict(X).tolist(), model.predict(X).tolist(),
   "loading by stage")

client.update_model_version(NAME, "1", description="the first one")
client.set_model_version_tag(NAME, "1", "validated", "yes")
v1 = client.get_model_version(NAME, "1")
eq((v1.description, v1.tags), ("the first one", {"validated": "yes"}), "version description and tags")
found = client.search_model_versions(f"name = '{NAME}'")
eq(sorted(v.version for v in found), ["1", "2"], "search_model_versions")
eq([m.name for m in client.search_registered_models(f"name = '{NAME}'")], [NAME], "search_registered_models")
raises_mlflow(lambda: client.get_registered_model(f"absent-{SUFFIX}"), "RESOURCE_DOES_NOT_EXIST")
raises_mlflow(lambda: client.create_registered_model(NAME), "RESOURCE_ALREADY_EXISTS")

if not REFERENCE:
    # One registry: MLflow's version n is Comet's n.0.0, its stage Comet's stage.
    details = comet("registry-model/details", workspaceName=WORKSPACE, modelName=NAME)
    versions = {v["version"]: v for v in details["versions"]}
    eq(sorted(versions), ["1.0.0", "2.0.0"], "Comet versions")
    eq(versions["1.0.0"]["stages"], ["Production"], "Comet stages of version 1")
    eq(versions["2.0.0"]["stages"], ["Archived"], "Comet stages of version 2")
    eq(versions["1.0.0"]["comment"], "the first one", "Comet comment is the description")
    eq(versions["1.0.0"]["experimentModel"]["experimentKey"], RUN, "Comet version's run")
    # Foundry links the run to the registry version made from its model.
    linked = foundry_experiment(run.info.experiment_id, RUN).get("linkedModelVersion", "")
    check(linked.startswith("ri.models.main.model-version."), f"Foundry linkedModelVersion, got {linked!r}")

# Autolog of a small fit: params, training metrics and the model.
mlflow.autolog(log_input_examples=False, log_model_signatures=True, silent=True)
with mlflow.start_run(run_name="autolog") as run:
    LinearRegression(fit_intercept=True).fit(X, X[:, 0] * 2.0 + 1.0)
mlflow.autolog(disable=True)
auto = client.get_run(run.info.run_id)
eq(auto.data.params.get("fit_intercept"), "True", "autologged param")
check(abs(auto.data.metrics["training_r2_score"] - 1.0) < 1e-9, f"autologged metric {auto.data.metrics}")
eq(auto.data.tags.get("estimator_name"), "LinearRegression", "autologged estimator tag")
if IS_3:
    logged = mlflow.search_logged_models(experiment_ids=[auto.info.experiment_id], output_format="list")
    check(any(m.source_run_id == auto.info.run_id for m in logged), "autolog logged a model of the run")
    model_uri = next(f"models:/{m.model_id}" for m in logged if m.source_run_id == auto.info.run_id)
else:
    model_uri = f"runs:/{auto.info.run_id}/model"
prediction = mlflow.pyfunc.load_model(model_uri).predict(np.array([[10.0, 0.0]]))
check(abs(float(prediction[0]) - 21.0) < 1e-9, f"the autologged model predicts, got {prediction}")

ok("models_check")
