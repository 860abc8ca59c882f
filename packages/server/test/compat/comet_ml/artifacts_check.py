"""Artifacts through comet_ml (the pinned 3.32.5 and the newest) against a Cairn server.

comet_ml logs artifacts only through the live-logging Experiment (the /clientlib/ streaming
protocol), so this script writes them the way that path's REST half does: the client's own REST
helper for the upsert, the prepared state request it posts, and its multipart encoders
(`send_file`, `send_remote_asset`) against `write/experiment/upload-asset`. It then reads
everything back through comet_ml: `API.get_artifact_list/_details/_files`, and the LoggedArtifact
that `Experiment.get_artifact` builds (`_get_artifact`), whose `download()` fetches each file
through get-asset with `artifactVersionId`.

Env: COMET_URL_OVERRIDE, COMET_API_KEY, CAIRN_WORKSPACE. Prints "OK artifacts_check" on success.
"""

import io
import os
import secrets
import tempfile
import zipfile

import requests

from comet_ml import API, APIExperiment
try:  # comet_ml 3.32: one artifacts module
    from comet_ml.artifacts import (
        _call_post_prepared_request,
        _get_artifact,
        _prepare_update_artifact_version_state,
    )
except ImportError:  # newer clients: the same helpers in a package of modules
    from comet_ml.artifacts.artifact_getter import get_artifact as _get_artifact
    from comet_ml.artifacts.artifact_logger import (
        _call_post_prepared_request,
        _prepare_update_artifact_version_state,
    )
from comet_ml.config import get_config
try:
    from comet_ml.connection import send_file, send_remote_asset
except ImportError:  # newer clients
    from comet_ml.connection.connection_upload import send_file, send_remote_asset
from comet_ml.exceptions import ArtifactNotFinalException, ArtifactNotFound, CometRestApiException
from comet_ml.summary import Summary

WORKSPACE = os.environ.get("CAIRN_WORKSPACE", "default")
API_KEY = os.environ["COMET_API_KEY"]
SUFFIX = secrets.token_hex(4)

api = API(api_key=API_KEY, cache=False)
client = api._client  # comet_ml's RestApiClient: the helper its Experiment uses for artifacts
config = get_config()


def upload_url():
    return client.base_url + "write/experiment/upload-asset"


def upload_file(experiment_key, version_id, file_name, data, metadata=None):
    """An artifact file, encoded by comet_ml's own multipart helper."""
    with tempfile.NamedTemporaryFile(delete=False) as handle:
        handle.write(data)
        path = handle.name
    try:
        response = send_file(
            upload_url(),
            path,
            params={"experimentKey": experiment_key, "fileName": file_name, "artifactVersionId": version_id},
            headers={"Authorization": API_KEY},
            timeout=30,
            session=requests.Session(),
            metadata=metadata,
        )
    finally:
        os.unlink(path)
    assert response.status_code == 200, "upload of %s failed: %s %s" % (file_name, response.status_code, response.text)
    return response.json()["assetId"]


def upload_remote(experiment_key, version_id, file_name, uri):
    """A remote artifact file as comet_ml sends it: `isRemote` and a `link` part dressed as a file."""
    response = send_remote_asset(
        upload_url(),
        uri,
        params={
            "experimentKey": experiment_key,
            "fileName": file_name,
            "artifactVersionId": version_id,
            "isRemote": True,
            "overwrite": False,
            "assetId": secrets.token_hex(16),
        },
        headers={"Authorization": API_KEY},
        timeout=30,
        session=requests.Session(),
    )
    assert response.status_code == 200, "remote upload failed: %s %s" % (response.status_code, response.text)
    return response.json()["assetId"]


def set_state(version_id, experiment_key, state):
    """POSTs the request comet_ml prepares for closing (or failing) a version."""
    prepared = _prepare_update_artifact_version_state(client, version_id, experiment_key, state)
    return _call_post_prepared_request(prepared, 10, verify_tls=True)


def rest_error(call):
    try:
        call()
    except CometRestApiException as error:
        return error
    raise AssertionError("expected a REST error")


def logged_artifact(params, experiment_key):
    return _get_artifact(client, params, experiment_key, Summary("API"), config)


experiment = APIExperiment(api_key=API_KEY, workspace=WORKSPACE, project_name="artifacts-check-" + SUFFIX)
key = experiment.id
name = "dataset-" + SUFFIX

# Version 1.0.0: two files and a remote one, then closed.
first = client.upsert_artifact(
    artifact_name=name,
    artifact_type="dataset",
    experiment_key=key,
    metadata={"source": "check", "rows": 3},
    version=None,
    aliases=["stable"],
    version_tags=["raw"],
).json()
assert first["currentVersion"] == "1.0.0", first
assert first["previousVersion"] is None, first
artifact_id = first["artifactId"]
v1 = first["artifactVersionId"]

# Right after the upsert comet_ml reads the new (still OPEN) version by its id.
opened = logged_artifact({"artifact_id": artifact_id, "artifact_version_id": v1}, key)
assert str(opened.version) == "1.0.0" and opened.name == name, opened

csv = b"a,b\n1,2\n3,4\n"
weights = bytes(range(256)) * 40
upload_file(key, v1, "data/train.csv", csv, metadata={"split": "train"})
upload_file(key, v1, "weights.bin", weights)
upload_remote(key, v1, "raw", "s3://bucket/raw/data.parquet")

# Before the version is closed, asking for it by version is refused as "not final" (90402).
try:
    logged_artifact({"workspace": WORKSPACE, "name": name, "version_or_alias": "1.0.0"}, key)
    raise AssertionError("an OPEN version must not be served by name")
except ArtifactNotFinalException:
    pass

assert set_state(v1, key, "CLOSED").status_code == 200
closed_again = rest_error(lambda: client.post_from_endpoint(
    "write/artifacts/state", {"artifactVersionId": v1, "experimentKey": key, "state": "CLOSED"}))
assert closed_again.sdk_error_code == 90401, closed_again.safe_json_response

# A file for a closed version is refused with 90401.
with tempfile.NamedTemporaryFile() as handle:
    handle.write(b"late")
    handle.flush()
    response = send_file(upload_url(), handle.name, params={"experimentKey": key, "fileName": "late.txt",
                         "artifactVersionId": v1}, headers={"Authorization": API_KEY}, timeout=30,
                         session=requests.Session())
assert response.status_code == 400 and response.json()["sdk_error_code"] == 90401, response.text

# Version 1.1.0 (the next minor), which fails; then an explicit 2.0.0 that is closed.
second = client.upsert_artifact(artifact_name=name, artifact_type="dataset", experiment_key=key).json()
assert second["currentVersion"] == "1.1.0" and second["previousVersion"] == "1.0.0", second
assert set_state(second["artifactVersionId"], key, "ERROR").status_code == 200
third = client.upsert_artifact(
    artifact_name=name, artifact_type="dataset", experiment_key=key, version="2.0.0", aliases=["stable"]
).json()
assert third["currentVersion"] == "2.0.0" and third["previousVersion"] == "1.1.0", third
v3 = third["artifactVersionId"]
upload_file(key, v3, "weights.bin", b"v2 weights")
assert set_state(v3, key, "CLOSED").status_code == 200
duplicate = rest_error(lambda: client.upsert_artifact(
    artifact_name=name, artifact_type="dataset", experiment_key=key, version="2.0.0"))
assert duplicate.sdk_error_code == 90399, duplicate.safe_json_response

# Reads through comet_ml's API.
listed = api.get_artifact_list(WORKSPACE)["artifacts"]
mine = [a for a in listed if a["name"] == name]
assert len(mine) == 1, listed
assert mine[0]["artifactId"] == artifact_id and mine[0]["type"] == "dataset", mine
assert mine[0]["versionsCount"] == 3, mine
assert mine[0]["sizeInBytes"] == len(csv) + len(weights) + len(b"v2 weights"), mine
assert mine[0]["project"] == "artifacts-check-" + SUFFIX, mine
assert all(a["type"] == "dataset" for a in api.get_artifact_list(WORKSPACE, "dataset")["artifacts"])
assert not [a for a in api.get_artifact_list(WORKSPACE, "model-" + SUFFIX)["artifacts"]]

details = api.get_artifact_details(WORKSPACE, name)
assert details == api.get_artifact_details(artifact_id=artifact_id), "by name and by id must agree"
assert details["latestVersion"] == "2.0.0", details
versions = {v["version"]: v for v in details["versions"]}
assert [v["version"] for v in details["versions"]] == ["1.0.0", "1.1.0", "2.0.0"], details
assert versions["1.0.0"]["state"] == "CLOSED" and versions["1.1.0"]["state"] == "ERROR", versions
assert versions["1.0.0"]["sizeInBytes"] == len(csv) + len(weights), versions
assert versions["1.0.0"]["tags"] == ["raw"], versions
# The alias moved to 2.0.0 when that version claimed it.
assert versions["1.0.0"]["alias"] == [] and versions["2.0.0"]["alias"] == ["stable"], versions
assert versions["1.0.0"]["createdFrom"] == key, versions
assert versions["1.0.0"]["metadata"] == '{"rows":3,"source":"check"}', versions

files = api.get_artifact_files(WORKSPACE, artifact_name=name, version="1.0.0")["files"]
by_name = {f["fileName"]: f for f in files}
assert set(by_name) == {"data/train.csv", "weights.bin", "raw"}, files
assert by_name["data/train.csv"]["fileSize"] == len(csv) and by_name["data/train.csv"]["remote"] is False
assert by_name["data/train.csv"]["metadata"] == '{"split":"train"}', by_name
assert by_name["raw"]["remote"] is True and by_name["raw"]["link"] == "s3://bucket/raw/data.parquet", by_name
assert all(f["artifactVersionId"] == v1 and f["artifactId"] == artifact_id for f in files)
by_alias = api.get_artifact_files(WORKSPACE, artifact_name=name, alias="stable")["files"]
assert [f["fileName"] for f in by_alias] == ["weights.bin"], by_alias

# The LoggedArtifact of Experiment.get_artifact: latest by default, then by version and alias.
latest = logged_artifact({"workspace": WORKSPACE, "name": name, "experiment_key": key}, key)
assert str(latest.version) == "2.0.0" and latest.aliases == frozenset(["stable"]), latest
v1_logged = logged_artifact({"workspace": WORKSPACE, "name": name, "version_or_alias": "1.0.0"}, key)
assert v1_logged.size == len(csv) + len(weights), v1_logged
assert v1_logged.metadata == {"source": "check", "rows": 3}, v1_logged.metadata
assert v1_logged.source_experiment_key == key and v1_logged.artifact_type == "dataset", v1_logged
assert v1_logged.workspace == WORKSPACE and v1_logged.version_tags == frozenset(["raw"]), v1_logged
assert len(v1_logged.remote_assets) == 1, v1_logged.remote_assets

# An artifact named without a workspace is looked up in the experiment's workspace.
by_experiment = logged_artifact({"name": name, "version_or_alias": "stable", "experiment_key": key}, key)
assert str(by_experiment.version) == "2.0.0", by_experiment

# ERROR and missing versions, as comet_ml reports them.
try:
    logged_artifact({"workspace": WORKSPACE, "name": name, "version_or_alias": "1.1.0"}, key)
    raise AssertionError("an ERROR version must not be served by name")
except ArtifactNotFinalException:
    pass
try:
    logged_artifact({"workspace": WORKSPACE, "name": name, "version_or_alias": "9.9.9"}, key)
    raise AssertionError("a missing version must be reported")
except ArtifactNotFound:
    pass
missing = rest_error(lambda: client.get_artifact_version_details(workspace=WORKSPACE, name="absent-" + SUFFIX))
assert missing.sdk_error_code == 624522, missing.safe_json_response

# Download through the LoggedArtifact: every local file via get-asset with artifactVersionId.
with tempfile.TemporaryDirectory() as target:
    downloaded = v1_logged.download(target)
    with open(os.path.join(target, "data", "train.csv"), "rb") as handle:
        assert handle.read() == csv
    with open(os.path.join(target, "weights.bin"), "rb") as handle:
        assert handle.read() == weights
    assert not os.path.exists(os.path.join(target, "raw")), "remote files are not downloaded"
    assert {a.logical_path for a in downloaded.assets} == {"data/train.csv", "weights.bin", "raw"}

# The zip of a version (no comet_ml method exists for it; same auth header).
response = requests.get(
    client.base_url + "artifacts/version/download",
    params={"workspace": WORKSPACE, "artifactName": name, "version": "1.0.0"},
    headers={"Authorization": API_KEY},
    timeout=30,
)
assert response.status_code == 200, response.text
archive = zipfile.ZipFile(io.BytesIO(response.content))
assert sorted(archive.namelist()) == ["data/train.csv", "weights.bin"], archive.namelist()
assert archive.read("data/train.csv") == csv and archive.read("weights.bin") == weights

# Labels and details through comet_ml's LoggedArtifact update methods.
v1_logged.update_aliases(["old", "first"])
v1_logged.update_version_tags(["raw", "audited"])
v1_logged.update_artifact_tags(["team-a"])
relabelled = api.get_artifact_details(artifact_id=artifact_id)
assert relabelled["tags"] == ["team-a"], relabelled
first_version = [v for v in relabelled["versions"] if v["version"] == "1.0.0"][0]
assert first_version["alias"] == ["first", "old"] and first_version["tags"] == ["raw", "audited"], first_version
assert str(logged_artifact({"workspace": WORKSPACE, "name": name, "version_or_alias": "old"}, key).version) == "1.0.0"

# Invalid state names are refused with 90410.
invalid = rest_error(lambda: client.post_from_endpoint(
    "write/artifacts/state", {"artifactVersionId": v3, "experimentKey": key, "state": "DONE"}))
assert invalid.sdk_error_code == 90410, invalid.safe_json_response

print("OK artifacts_check")
