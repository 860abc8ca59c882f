"""comet_ml 3.32.5 against Cairn: the model registry, end to end.

Logs an experiment model (model-element assets sharing a groupingName), registers it twice,
then reads, updates, stages, downloads and deletes it through comet_ml's API. Contract: reads
COMET_URL_OVERRIDE, COMET_API_KEY and CAIRN_WORKSPACE; creates uniquely named projects and models;
prints "OK registry_check" on success.
"""

import io
import os
import secrets
import tempfile
import zipfile

import requests
from comet_ml import API, APIExperiment
from comet_ml.exceptions import CometRestApiException

WORKSPACE = os.environ.get("CAIRN_WORKSPACE", "default")
API_KEY = os.environ["COMET_API_KEY"]
ROOT = os.environ["COMET_URL_OVERRIDE"].split("/clientlib")[0].rstrip("/")
SUFFIX = secrets.token_hex(4)
PROJECT = "registry-check-" + SUFFIX
# Not in comet_ml's proper form on purpose: the client normalises it before registering.
MODEL = "My_Model " + SUFFIX
PROPER = "my-model-" + SUFFIX

FILES = {
    "model.pkl": bytes(range(256)) * 8,
    "config/params.json": b'{"layers": 3}',
}


def upload_model_file(experiment_key, file_name, data, model_name):
    """comet_ml's APIExperiment.log_asset has no groupingName: post upload-asset as log_model does."""
    response = requests.post(
        ROOT + "/api/rest/v2/write/experiment/upload-asset",
        params={
            "experimentKey": experiment_key,
            "fileName": file_name,
            "type": "model-element",
            "groupingName": model_name,
            "overwrite": "false",
        },
        files={"file": ("file", data)},
        data={"metadata": '{"framework": "none"}'},
        headers={"Authorization": API_KEY},
        timeout=30,
    )
    assert response.status_code == 200, "upload-asset failed: %s %s" % (response.status_code, response.text)
    return response.json()["assetId"]


def expect_error(call, status, sdk_error_code=None):
    try:
        call()
    except CometRestApiException as error:
        assert error.response.status_code == status, "expected %s, got %s: %s" % (
            status,
            error.response.status_code,
            error.safe_msg,
        )
        if sdk_error_code is not None:
            assert error.sdk_error_code == sdk_error_code, "sdk_error_code %r" % error.sdk_error_code
        return error
    raise AssertionError("expected an HTTP %s error" % status)


def main():
    # cache=False: comet_ml caches latest_version and download-instructions client-side, which
    # would hide the changes this script makes between two reads.
    api = API(cache=False)
    experiment = APIExperiment(workspace=WORKSPACE, project_name=PROJECT)
    key = experiment.id
    for name, data in FILES.items():
        upload_model_file(key, name, data, "net")
    second = APIExperiment(workspace=WORKSPACE, project_name=PROJECT)
    upload_model_file(second.id, "model.pkl", b"second weights", "net")

    assert experiment.get_model_names() == ["net"], experiment.get_model_names()
    models_before = api._client.get_experiment_models(key)
    assert models_before[0]["registryRecords"] == [], models_before

    # register_model: the first call creates the registry model, the second adds a version.
    registered = experiment.register_model(
        "net",
        version="1.0.0",
        workspace=WORKSPACE,
        registry_name=MODEL,
        description="first net",
        comment="initial",
        stages=["staging"],
    )
    assert registered["registryModelId"] and registered["registryModelItemId"], registered
    second.register_model("net", version="1.10.0-rc.1", workspace=WORKSPACE, registry_name=MODEL)
    experiment.register_model("net", version="1.2.0", workspace=WORKSPACE, registry_name=MODEL, comment="tuned")

    # Not semver: comet_ml turns sdk_error_code 42001 into a ValueError.
    try:
        experiment.register_model("net", version="1.0", workspace=WORKSPACE, registry_name=MODEL)
        raise AssertionError("a non-semver version must be refused")
    except ValueError as error:
        assert "semantic version" in str(error), error
    # The same version twice is a 400.
    expect_error(
        lambda: experiment.register_model("net", version="1.2.0", workspace=WORKSPACE, registry_name=MODEL),
        400,
    )

    records = api._client.get_experiment_models(key)[0]["registryRecords"]
    assert sorted(r["version"] for r in records) == ["1.0.0", "1.2.0"], records
    assert all(r["registryModelName"] == PROPER for r in records), records

    names = api.get_registry_model_names(WORKSPACE)
    assert PROPER in names, names
    assert api.get_registry_model_count(WORKSPACE) >= 1

    details = api.get_registry_model_details(WORKSPACE, PROPER)
    assert details["modelName"] == PROPER, details
    assert details["description"] == "first net", details
    assert details["numberOfVersions"] == 3, details
    versions = api.get_registry_model_versions(WORKSPACE, PROPER)
    # Ascending semver: 1.10.0-rc.1 ranks above 1.2.0 numerically, as a pre-release of 1.10.0.
    assert versions == ["1.0.0", "1.2.0", "1.10.0-rc.1"], versions
    v1 = api.get_registry_model_details(WORKSPACE, PROPER, "1.0.0")
    assert v1["stages"] == ["staging"] and v1["comment"] == "initial", v1
    assert v1["experimentModel"]["experimentKey"] == key, v1
    assert sorted(a["fileName"] for a in v1["assets"]) == sorted(FILES), v1["assets"]

    # Latest: highest semver overall, then with stage and major/minor filters.
    latest = api.get_latest_registry_model_version_details(WORKSPACE, PROPER)
    assert [v["version"] for v in latest["versions"]] == ["1.10.0-rc.1"], latest
    latest_staging = api.get_latest_registry_model_version_details(WORKSPACE, PROPER, stage="staging")
    assert latest_staging["versions"][0]["version"] == "1.0.0", latest_staging
    latest_minor = api.get_latest_registry_model_version_details(WORKSPACE, PROPER, version_major=1, version_minor=2)
    assert latest_minor["versions"][0]["version"] == "1.2.0", latest_minor

    # Version update: comment and the whole stage list.
    api.update_registry_model_version(WORKSPACE, PROPER, "1.2.0", comment="promoted", stages=["qa"])
    v12 = api.get_registry_model_details(WORKSPACE, PROPER, "1.2.0")
    assert v12["comment"] == "promoted" and v12["stages"] == ["qa"], v12

    api.add_registry_model_version_stage(WORKSPACE, PROPER, "1.2.0", "production")
    assert api.get_registry_model_details(WORKSPACE, PROPER, "1.2.0")["stages"] == ["qa", "production"]
    api.delete_registry_model_version_stage(WORKSPACE, PROPER, "1.2.0", "qa")
    assert api.get_registry_model_details(WORKSPACE, PROPER, "1.2.0")["stages"] == ["production"]
    production = api.get_latest_registry_model_version_details(WORKSPACE, PROPER, stage="production")
    assert production["versions"][0]["version"] == "1.2.0", production

    api.update_registry_model_notes(WORKSPACE, PROPER, "notes of " + SUFFIX)
    assert api.get_registry_model_notes(WORKSPACE, PROPER) == "notes of " + SUFFIX

    assets = api.get_model_registry_version_assets(WORKSPACE, PROPER, version="1.0.0")
    assert assets["version"] == "1.0.0" and len(assets["assets"]) == len(FILES), assets
    by_stage = api.get_model_registry_version_assets(WORKSPACE, PROPER, stage="production")
    assert by_stage["version"] == "1.2.0", by_stage

    # Downloads: by version, by stage, and latest, each checked file by file.
    with tempfile.TemporaryDirectory() as folder:
        api.download_registry_model(WORKSPACE, PROPER, version="1.0.0", output_path=folder)
        for name, data in FILES.items():
            with open(os.path.join(folder, name), "rb") as handle:
                assert handle.read() == data, "downloaded %s differs" % name
    with tempfile.TemporaryDirectory() as folder:
        api.download_registry_model(WORKSPACE, PROPER, stage="production", output_path=folder, expand=False)
        with zipfile.ZipFile(os.path.join(folder, PROPER + "_production.zip")) as archive:
            assert sorted(archive.namelist()) == sorted(FILES), archive.namelist()
    latest_zip = api._client.get_registry_model_zipfile(WORKSPACE, PROPER, None, None)
    with zipfile.ZipFile(io.BytesIO(latest_zip)) as archive:
        assert archive.namelist() == ["model.pkl"], archive.namelist()
        assert archive.read("model.pkl") == b"second weights"

    # Rename, describe, publish; the old name is gone.
    renamed = PROPER + "-v2"
    api.update_registry_model(WORKSPACE, PROPER, new_name=renamed, description="renamed net", public=True)
    details = api.get_registry_model_details(WORKSPACE, renamed)
    assert details["description"] == "renamed net" and details["isPublic"] is True, details
    expect_error(lambda: api.get_registry_model_details(WORKSPACE, PROPER), 404, 42008)

    api.delete_registry_model_version(WORKSPACE, renamed, "1.10.0-rc.1")
    assert api.get_registry_model_versions(WORKSPACE, renamed) == ["1.0.0", "1.2.0"]

    api.delete_registry_model(WORKSPACE, renamed)
    assert renamed not in api.get_registry_model_names(WORKSPACE)
    expect_error(lambda: api.get_registry_model_details(WORKSPACE, renamed), 404, 42008)
    assert api._client.get_experiment_models(key)[0]["registryRecords"] == []

    print("OK registry_check")


if __name__ == "__main__":
    main()
