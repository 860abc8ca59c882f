"""comet_ml 3.32.5 against Cairn: workspaces, account, projects and experiment administration.

Drives comet_ml.API (and APIExperiment where the admin call lives there) through every method
that maps to the project, workspace and experiment-lifecycle endpoints, asserting on what comes
back. Contract: env COMET_URL_OVERRIDE, COMET_API_KEY, CAIRN_WORKSPACE; own uniquely named
projects; prints "OK projects_check" at the end.
"""

import os
import secrets
import time

from comet_ml import API, APIExperiment
from comet_ml.exceptions import CometRestApiException

try:  # comet_ml 3.32: reads with an unknown key raise InvalidRestAPIKey
    from comet_ml.exceptions import InvalidRestAPIKey as UnknownKeyError
except ImportError:  # newer comet_ml: the 401 as a REST error of its own
    from comet_ml.exceptions import Unauthorized as UnknownKeyError

WORKSPACE = os.environ.get("CAIRN_WORKSPACE", "default")
SUFFIX = secrets.token_hex(4)


def name(base):
    return "compat-%s-%s" % (base, SUFFIX)


def expect_rest_error(call, status):
    """The call must fail with a REST error of this HTTP status."""
    try:
        call()
    except CometRestApiException as error:
        assert error.response.status_code == status, "expected HTTP %d, got %d: %s" % (
            status,
            error.response.status_code,
            error.response.text,
        )
        return error
    raise AssertionError("expected HTTP %d, the call succeeded" % status)


# The client-side cache would answer reads from memory; every read here must reach the server.
api = API(cache=False)

# The version probe (GET /clientlib/isAlive/ver, no key) answers a version the client accepts and
# that stays below the newer endpoints the client would otherwise switch to (spec §1.1).
backend_version = api._client.get_api_backend_version()
assert backend_version is not None, "the version probe failed"
assert (1, 2, 78) <= backend_version < (3, 3, 11), "backend version %r" % (backend_version,)

# A key the server does not know: reads raise UnknownKeyError, writes a 401 REST error.
stranger = API(api_key="NotARealKey" + SUFFIX + "0" * 20, cache=False)
try:
    stranger.get_workspaces()
    raise AssertionError("an unknown API key could list workspaces")
except UnknownKeyError:
    pass
expect_rest_error(lambda: stranger.create_project(WORKSPACE, name("stranger")), 401)

# --- workspaces and account -------------------------------------------------------------------
workspaces = api.get()
assert isinstance(workspaces, list) and WORKSPACE in workspaces, "API.get() -> %r" % (workspaces,)
assert api.get_workspaces() == workspaces, "get_workspaces() differs from get()"

details = api.get_account_details()
assert set(details) >= {"userName", "defaultWorkspaceName"}, "account details %r" % (details,)
assert isinstance(details["userName"], str) and details["userName"], "userName %r" % (details,)
assert details["defaultWorkspaceName"] in workspaces, "default workspace %r not in %r" % (
    details["defaultWorkspaceName"],
    workspaces,
)
assert api.get_default_workspace() == details["defaultWorkspaceName"], "get_default_workspace()"

# --- create, read, update projects ------------------------------------------------------------
main = name("main")
other = name("other")
created = api.create_project(WORKSPACE, main, project_description="first description", public=False)
assert isinstance(created, dict) and created.get("projectId"), "create_project -> %r" % (created,)
project_id = created["projectId"]
created_other = api.create_project(WORKSPACE, other)
other_id = created_other["projectId"]
assert other_id != project_id, "two projects, one id"

# A second project of the same name in the same workspace is refused.
expect_rest_error(lambda: api.create_project(WORKSPACE, main), 400)

project_names = api.get(WORKSPACE)
assert main in project_names and other in project_names, "API.get(ws) -> %r" % (project_names,)
assert api.get_projects(WORKSPACE) == project_names, "get_projects(ws) differs from get(ws)"

project = api.get_project(WORKSPACE, main)
assert project is not None, "get_project returned None for an existing project"
assert project["projectId"] == project_id, project
assert project["projectName"] == main, project
assert project["projectDescription"] == "first description", project
assert project["workspaceName"] == WORKSPACE, project
assert project["public"] is False, project
assert project["numberOfExperiments"] == 0, project
assert project["ownerUserName"] == details["userName"], project
assert isinstance(project["lastUpdated"], int) and project["lastUpdated"] > 0, project
assert api.get_project_by_id(project_id) == project, "get_project_by_id differs from get_project"

# Unknown projects are None, not errors (the client maps 404 to None).
assert api.get_project(WORKSPACE, name("missing")) is None, "get_project of a missing project"
assert api.get_project_by_id("0" * 32) is None, "get_project_by_id of a missing id"

updated = api.update_project(WORKSPACE, main, description="second description", public=True)
assert updated.get("code") == 200, "update_project -> %r" % (updated,)
project = api.get_project(WORKSPACE, main)
assert project["projectDescription"] == "second description", project
assert project["public"] is True, project

renamed = name("renamed")
api.update_project_by_id(project_id, new_project_name=renamed, public=False)
assert api.get_project(WORKSPACE, main) is None, "the old name still resolves after a rename"
project = api.get_project(WORKSPACE, renamed)
assert project["projectId"] == project_id and project["public"] is False, project
assert project["projectDescription"] == "second description", "rename lost the description"
api.update_project(WORKSPACE, renamed, new_project_name=main)
assert api.get_project(WORKSPACE, main)["projectId"] == project_id, "renaming back"

# Names with spaces and non-ASCII letters travel in query strings and bodies intact.
spaced = "compat spaced é %s" % SUFFIX
spaced_id = api.create_project(WORKSPACE, spaced)["projectId"]
assert api.get_project(WORKSPACE, spaced)["projectId"] == spaced_id, "project with spaces and accents"
assert spaced in api.get(WORKSPACE), "listed by its exact name"
api.delete_project(WORKSPACE, spaced)
assert api.get_project(WORKSPACE, spaced) is None, "deleted by name"

# --- notes ---------------------------------------------------------------------------------------
assert api.get_project_notes(WORKSPACE, main) in ("", None), "notes of a new project"
saved = api.set_project_notes(WORKSPACE, main, "# Notes\nline two")
assert saved.get("code") == 200, "set_project_notes -> %r" % (saved,)
assert api.get_project_notes(WORKSPACE, main) == "# Notes\nline two", "notes round trip"
api.set_project_notes(WORKSPACE, main, "replaced")
assert api.get_project_notes(WORKSPACE, main) == "replaced", "notes are replaced, not appended"

# --- share keys ----------------------------------------------------------------------------------
assert api.get_project_share_keys(project_id) == [], "share keys of a new project"
first_key = api.create_project_share_key(project_id)
second_key = api.create_project_share_key(project_id)
assert isinstance(first_key, str) and first_key and first_key != second_key, (first_key, second_key)
assert sorted(api.get_project_share_keys(project_id)) == sorted([first_key, second_key]), "listed keys"
api.delete_project_share_key(project_id, first_key)
assert api.get_project_share_keys(project_id) == [second_key], "after deleting one share key"

# --- experiments in a project ----------------------------------------------------------------------
exp_a = APIExperiment(api=api, workspace=WORKSPACE, project_name=main, experiment_name="alpha")
exp_b = APIExperiment(api=api, workspace=WORKSPACE, project_name=main, experiment_name="beta")
for exp, expected_name in ((exp_a, "alpha"), (exp_b, "beta")):
    assert exp.id and 32 <= len(exp.id) <= 50 and exp.id.isalnum(), "experiment key %r" % (exp.id,)
    assert exp.workspace == WORKSPACE and exp.project_name == main, (exp.workspace, exp.project_name)
    assert exp.project_id == project_id, "experiment project id"
    assert exp.name == expected_name, "experiment name %r" % (exp.name,)
    assert exp.archived is False, "a new experiment is not archived"

assert api.get_project(WORKSPACE, main)["numberOfExperiments"] == 2, "numberOfExperiments"

listed = api.get_experiments(WORKSPACE, main)
assert sorted(e.id for e in listed) == sorted([exp_a.id, exp_b.id]), "get_experiments(ws, project)"
assert sorted(e.id for e in api.get(WORKSPACE, main)) == sorted([exp_a.id, exp_b.id]), "API.get(ws, p)"
by_pattern = api.get_experiments(WORKSPACE, main, pattern="alp")
assert [e.id for e in by_pattern] == [exp_a.id], "get_experiments with a name pattern"
in_workspace = {e.id for e in api.get_experiments(WORKSPACE)}
assert {exp_a.id, exp_b.id} <= in_workspace, "get_experiments(ws) walks every project"

# One experiment by key, by "ws/project/key", by name (the client falls back to the name after 404).
for found in (
    api.get_experiment(WORKSPACE, main, exp_a.id),
    api.get(WORKSPACE, main, exp_a.id),
    api.get("%s/%s/%s" % (WORKSPACE, main, exp_a.id)),
    api.get_experiment(WORKSPACE, main, "alpha"),
    api.get_experiment_by_key(exp_a.id),
):
    assert found is not None and found.id == exp_a.id, "lookup of alpha -> %r" % (found,)
    assert found.name == "alpha" and found.project_name == main, (found.name, found.project_name)
assert api.get_experiment(WORKSPACE, main, "no-such-name") is None, "unknown name is None"
assert api.get_experiment_by_key("f" * 32) is None, "unknown key is None"
missing = expect_rest_error(lambda: api._client.get_experiment_metadata("f" * 32), 404)
assert missing.sdk_error_code == 90211, "unknown experiment -> sdk_error_code %r" % (missing.sdk_error_code,)

metadata = api.get_experiment_by_key(exp_b.id).get_metadata()
assert metadata["experimentKey"] == exp_b.id and metadata["experimentName"] == "beta", metadata
assert metadata["projectId"] == project_id and metadata["projectName"] == main, metadata
assert metadata["workspaceName"] == WORKSPACE and metadata["archived"] is False, metadata
assert isinstance(metadata["startTimeMillis"], int), metadata
for key in ("optimizationId", "filePath", "fileName", "throttle", "running", "durationMillis"):
    assert key in metadata, "metadata lacks %s: %r" % (key, metadata)

# --- archive and restore -------------------------------------------------------------------------
archived = exp_a.archive()
assert archived is not None and exp_a.archived is True, "APIExperiment.archive() -> %r" % (archived,)
assert [e.id for e in api.get_experiments(WORKSPACE, main)] == [exp_b.id], "archived ones are hidden"
# Without a pattern the client lists non-archived experiments (its own quirk), so ask with one.
archived_list = api.get_archived_experiments(WORKSPACE, main, pattern=exp_a.id)
assert [e.id for e in archived_list] == [exp_a.id], "get_archived_experiments"
assert api.get_archived_experiment(WORKSPACE, main, exp_a.id).archived is True, "archived flag"
assert api.get_experiment_by_key(exp_a.id).archived is True, "metadata.archived after archive"

api.restore_experiment(exp_a.id)
assert api.get_experiment_by_key(exp_a.id).archived is False, "restore_experiment"
api.archive_experiments([exp_a.id, exp_b.id])
assert api.get_experiments(WORKSPACE, main) == [], "archive_experiments archives every key"
api.restore_experiment(exp_a.id)
api.restore_experiment(exp_b.id)
assert len(api.get_experiments(WORKSPACE, main)) == 2, "restored both"

# --- stop ------------------------------------------------------------------------------------------
exp_b.update_status()
assert api.get_experiment_by_key(exp_b.id).get_metadata()["running"] is True, "running after a beat"
stopped = api.stop_experiment(exp_b.id)
assert stopped.get("code") == 200, "stop_experiment -> %r" % (stopped,)
stopped_metadata = api.get_experiment_by_key(exp_b.id).get_metadata()
assert stopped_metadata["running"] is False, "running after stop: %r" % (stopped_metadata,)
assert isinstance(stopped_metadata["endTimeMillis"], int), "stop sets an end time"

# --- symlinks and moves ----------------------------------------------------------------------------
link = exp_a.create_symlink(other)
assert isinstance(link, str) and other in link and exp_a.id in link, "create_symlink -> %r" % (link,)
linked = [e.id for e in api.get_experiments(WORKSPACE, other)]
assert linked == [exp_a.id], "symlinked experiment listed in the target project: %r" % (linked,)
assert exp_a.id in [e.id for e in api.get_experiments(WORKSPACE, main)], "symlink keeps the home"
# Listed through the link, the row still names the experiment's home project.
assert api.get_experiments(WORKSPACE, other)[0].project_name == main, "row of a symlinked experiment"

moved = api.move_experiments([exp_b.id], WORKSPACE, other)
assert moved.status_code == 200, "move_experiments -> %s" % (moved.text,)
assert sorted(e.id for e in api.get_experiments(WORKSPACE, other)) == sorted([exp_a.id, exp_b.id])
assert [e.id for e in api.get_experiments(WORKSPACE, main)] == [exp_a.id], "moved out of main"
moved_metadata = api.get_experiment_by_key(exp_b.id).get_metadata()
assert moved_metadata["projectName"] == other and moved_metadata["projectId"] == other_id, moved_metadata

exp_c = APIExperiment(api=api, workspace=WORKSPACE, project_name=main, experiment_name="gamma")
api.move_experiments([exp_c.id], WORKSPACE, other, symlink=True)
assert exp_c.id in [e.id for e in api.get_experiments(WORKSPACE, other)], "move with symlink=True"
assert exp_c.id in [e.id for e in api.get_experiments(WORKSPACE, main)], "symlink keeps the home"
assert api.get_experiment_by_key(exp_c.id).project_name == main, "a symlink does not move"

# Moving into a project that does not exist is refused with a REST error, not a crash.
expect_rest_error(lambda: api.move_experiments([exp_c.id], "no-such-workspace-" + SUFFIX, other), 404)

# --- delete experiments and projects ---------------------------------------------------------------
exp_d = APIExperiment(api=api, workspace=WORKSPACE, project_name=main)
exp_e = APIExperiment(api=api, workspace=WORKSPACE, project_name=main)
deleted = api.delete_experiment(exp_d.id)
assert deleted.get("code") == 200, "delete_experiment -> %r" % (deleted,)
assert api.get_experiment_by_key(exp_d.id) is None, "a deleted experiment is gone"
api.delete_experiments([exp_e.id])
assert api.get_experiment_by_key(exp_e.id) is None, "delete_experiments"

# Deleting a project with its experiments removes them too.
response = api.delete_project(WORKSPACE, other, delete_experiments=True)
assert response.status_code == 200, "delete_project -> %s" % (response.text,)
assert api.get_project(WORKSPACE, other) is None, "the deleted project is gone"
assert api.get_experiment_by_key(exp_b.id) is None, "its experiments went with it"
assert other not in api.get(WORKSPACE), "deleted project still listed"

response = api.delete_project(project_id=project_id, delete_experiments=True)
assert response.status_code == 200, "delete_project(project_id=) -> %s" % (response.text,)
assert api.get_project_by_id(project_id) is None, "delete by id"
assert api.get_experiment_by_key(exp_a.id) is None, "experiments deleted with their project"

# An unknown project cannot be deleted.
expect_rest_error(lambda: api.delete_project(WORKSPACE, name("never-created")), 404)

# --- the client's default "general" project and timestamps ------------------------------------------
before = int(time.time() * 1000) - 60_000
general_exp = APIExperiment(api=api, workspace=WORKSPACE)
assert general_exp.project_name == "general", "APIExperiment without project_name -> general"
assert general_exp.start_server_timestamp >= before, "start time is server time in milliseconds"
api.delete_experiment(general_exp.id)

print("OK projects_check")
