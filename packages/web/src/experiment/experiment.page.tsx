export function ExperimentPage() {
  return (
    <div className="page">
      <h1>Experiment</h1>
    </div>
  );
}
