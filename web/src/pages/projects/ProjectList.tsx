/** Placeholder until the page is built. */
export default function ProjectList() {
  return <main className="page">ProjectList</main>;
}
