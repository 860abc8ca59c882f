export function ComparePage() {
  return (
    <div className="page">
      <h1>Compare</h1>
    </div>
  );
}
