/** Placeholder until the page is built. */
export default function ProjectSettings() {
  return <main className="page">ProjectSettings</main>;
}
