import type { Generated } from 'kysely';

/**
 * Kysely table types. Flags are integers (0/1) on both backends because better-sqlite3 cannot
 * bind booleans; times are epoch-millisecond bigints (parsed to numbers on PostgreSQL too).
 * Metric value columns are nullable only because NULL stands for NaN (SQLite cannot store NaN).
 */
export interface Database {
  users: {
    id: string;
    name: string;
    email: string | null;
    is_admin: number;
    default_workspace_id: string | null;
    created_at: number;
  };
  workspaces: { id: string; name: string; created_by: string; created_at: number };
  workspace_members: { workspace_id: string; user_id: string; role: string };
  api_keys: {
    id: string;
    user_id: string;
    name: string;
    prefix: string;
    key_hash: string;
    scopes: string;
    created_at: number;
    last_used_at: number | null;
    revoked_at: number | null;
    expires_at: number | null;
  };
  audit_events: {
    id: Generated<number>;
    at: number;
    actor_user_id: string | null;
    actor_name: string;
    action: string;
    target_type: string;
    target_id: string;
    target_name: string | null;
    workspace_id: string | null;
    workspace_name: string | null;
    /** JSON object. */
    details: string;
    source: string;
    request_id: string | null;
  };
  projects: {
    id: string;
    workspace_id: string;
    name: string;
    description: string | null;
    is_public: number;
    notes: string;
    owner_user_id: string;
    created_at: number;
    updated_at: number;
    deleted_at: number | null;
    artifact_location: string | null;
  };
  project_tags: { project_id: string; key: string; value: string };
  experiments: {
    id: string;
    project_id: string;
    workspace_id: string;
    name: string | null;
    status: string;
    archived: number;
    start_time: number;
    end_time: number | null;
    created_by: string;
    optimization_id: string | null;
    file_path: string | null;
    file_name: string | null;
    last_heartbeat: number | null;
    has_crashed: number;
    error: string | null;
    next_seq: number;
    created_at: number;
    updated_at: number;
    status_detail: string | null;
  };
  experiment_inputs: {
    experiment_id: string;
    name: string;
    digest: string;
    source_type: string;
    source: string;
    schema: string | null;
    profile: string | null;
    tags: string;
    created_at: number;
  };
  experiment_symlinks: { experiment_id: string; project_id: string };
  experiment_documents: { experiment_id: string; kind: string; body: string; updated_at: number };
  experiment_tags: { experiment_id: string; seq: number; tag: string };
  experiment_output: {
    experiment_id: string;
    seq: number;
    text: string;
    stderr: number;
    context: string | null;
    timestamp: number;
    client_offset: number | null;
    /** Position in the experiment's output, from 1, without gaps (0011). */
    line_no: number;
  };
  experiment_values: {
    experiment_id: string;
    kind: string;
    name: string;
    seq: number;
    value_type: string;
    value_text: string;
    step: number | null;
    timestamp: number;
    context: string | null;
  };
  experiment_value_current: {
    experiment_id: string;
    kind: string;
    name: string;
    seq: number;
    value_type: string;
    value_text: string;
    value_number: number | null;
  };
  series: {
    id: string;
    experiment_id: string;
    name: string;
    contexts: string;
    point_count: number;
    block_count: number;
    tail_count: number;
    /** The unsealed points as frames (block-codec.ts `appendTailFrame`); NULL when none (0014). */
    tail_payload: Uint8Array | null;
    min_value: number | null;
    min_step: number | null;
    min_timestamp: number;
    min_context: string | null;
    min_offset: number;
    max_value: number | null;
    max_step: number | null;
    max_timestamp: number;
    max_context: string | null;
    max_offset: number;
    last_value: number | null;
    last_step: number | null;
    last_timestamp: number;
    last_context: string | null;
    last_offset: number;
    /** Null only in rows being created before their first fold (never stored so). */
    latest_value: number | null;
    latest_step: number | null;
    latest_timestamp: number;
    latest_context: string | null;
    latest_offset: number;
  };
  series_blocks: {
    /** The series' experiment, leading every key of the series tables (0018). */
    experiment_id: string;
    series_id: string;
    block_no: number;
    point_count: number;
    first_offset: number;
    last_offset: number;
    min_step: number | null;
    max_step: number | null;
    /** Extremes of the block's non-NaN values; NULL when it holds NaN alone. */
    min_value: number | null;
    max_value: number | null;
    /** Extents of the block's timestamps and epochs (0010); NULL in blocks sealed before it. */
    min_timestamp: number | null;
    max_timestamp: number | null;
    /** NULL also when no point of the block has an epoch (min_timestamp is set then). */
    min_epoch: number | null;
    max_epoch: number | null;
    payload: Uint8Array;
    chunk_summaries: Uint8Array;
  };
  assets: {
    id: string;
    experiment_id: string;
    file_name: string;
    file_size: number;
    type: string;
    step: number | null;
    epoch: number | null;
    context: string | null;
    dir: string;
    metadata: string | null;
    tags: string;
    remote: number;
    link: string | null;
    grouping_name: string | null;
    artifact_version_id: string | null;
    blob_key: string | null;
    created_at: number;
  };
  project_share_links: { project_id: string; share_code: string; created_by: string; created_at: number };
  experiment_models: {
    id: string;
    experiment_id: string;
    name: string;
    created_at: number;
    logged_model_id: string | null;
    status: string | null;
    model_type: string | null;
    tags: string | null;
    params: string | null;
    step: number | null;
    updated_at: number | null;
  };
  code_panels: {
    id: string;
    workspace_id: string;
    owner_user_id: string;
    name: string;
    query_builder_id: string;
    scope_type: string;
    code: string;
    thumbnail_name: string | null;
    revision_id: number;
    blob_key: string;
    created_at: number;
    updated_at: number;
  };
  dashboards: {
    id: string;
    project_id: string;
    name: string;
    created_by: string;
    experiment_query_state: string;
    dashboard_chart_state: string;
    react_grid_table_state: string;
    v2: string;
    source: string | null;
    is_current: number;
    unsaved_view: number;
    project_default: number;
    pinned_experiments: string;
    auto_refresh: number;
    created_at: number;
    updated_at: number;
  };
  code_panel_instances: { id: string; dashboard_id: string; template_id: string; position: number };
  viz_instance_stores: { instance_id: string; body: string; updated_at: number };
  artifacts: {
    id: string;
    workspace_id: string;
    project_id: string | null;
    name: string;
    type: string;
    description: string | null;
    metadata: string | null;
    tags: string;
    is_public: number;
    emoji: string | null;
    created_by: string;
    experiment_key: string;
    created_at: number;
    updated_at: number;
  };
  artifact_versions: {
    id: string;
    artifact_id: string;
    version: string;
    state: string;
    metadata: string | null;
    tags: string;
    note: string | null;
    owner_user_id: string;
    experiment_key: string;
    created_at: number;
    updated_at: number;
  };
  artifact_aliases: { artifact_id: string; alias: string; version_id: string };
  registry_models: {
    id: string;
    workspace_id: string;
    name: string;
    description: string | null;
    is_public: number;
    notes: string;
    created_by: string;
    created_at: number;
    updated_at: number;
    tags: Generated<string>;
  };
  registry_versions: {
    id: string;
    registry_model_id: string;
    version: string;
    experiment_model_id: string | null;
    experiment_id: string;
    experiment_model_name: string;
    comment: string | null;
    created_by: string;
    created_at: number;
    updated_at: number;
    number: number | null;
    source: string | null;
    run_link: string | null;
    status: string | null;
    tags: Generated<string>;
  };
  registry_aliases: { registry_model_id: string; alias: string; version_id: string };
  registry_version_stages: { version_id: string; position: number; stage: string };
  webhook_configs: {
    workspace_id: string;
    /** The registry model id, or '' for the workspace-wide configuration. */
    scope: string;
    registry_model_id: string | null;
    /** JSON array of WebhookTarget. */
    targets: string;
    updated_at: number;
  };
  webhook_deliveries: {
    id: string;
    workspace_id: string;
    event_type: string;
    payload: string;
    url: string;
    /** JSON object of header name to value. */
    headers: string;
    status: string;
    attempts: number;
    last_status: number | null;
    last_error: string | null;
    next_attempt_at: number | null;
    delivered_at: number | null;
    created_at: number;
    /** 1 while a dispatcher holds the lease (an attempt in flight). */
    claimed: Generated<number>;
    /** Recording order, assigned by the database. */
    seq: Generated<number>;
  };
  security_epoch: { id: number; epoch: number };
  artifact_tables: {
    experiment_id: string;
    name: string;
    description: string | null;
    columns: string;
    row_count: number;
    size_bytes: number;
    blob_key: string;
    row_index: string;
    created_at: number;
    updated_at: number;
  };
  client_batches: { experiment_id: string; stream: string; batch_key: string; applied_at: number };
  project_keys: {
    project_id: string;
    source: string;
    name: string;
    experiments: number;
    numbers: number;
    strings: number;
    booleans: number;
  };
  workspace_usage: {
    workspace_id: string;
    bytes: number;
  };
  sessions: {
    id: string;
    secret_hash: string;
    user_id: string;
    api_key_id: string | null;
    scopes: string;
    created_at: number;
    expires_at: number;
    revoked_at: number | null;
  };
  sign_in_tokens: {
    id: string;
    token_hash: string;
    user_id: string;
    created_at: number;
    expires_at: number;
    used_at: number | null;
  };
}
