export function RegistryPage() {
  return (
    <div className="page">
      <h1>Models</h1>
    </div>
  );
}

export function ModelPage() {
  return (
    <div className="page">
      <h1>Model</h1>
    </div>
  );
}
