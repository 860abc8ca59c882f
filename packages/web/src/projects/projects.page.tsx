export function ProjectsPage() {
  return (
    <div className="page">
      <h1>Projects</h1>
    </div>
  );
}
