export function ArtifactsPage() {
  return (
    <div className="page">
      <h1>Artifacts</h1>
    </div>
  );
}

export function ArtifactPage() {
  return (
    <div className="page">
      <h1>Artifact</h1>
    </div>
  );
}
