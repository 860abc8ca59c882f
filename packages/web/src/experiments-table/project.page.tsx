export function ProjectPage() {
  return (
    <div className="page">
      <h1>Project</h1>
    </div>
  );
}
