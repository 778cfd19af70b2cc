/** Placeholder until the page is built. */
export default function ImportPage() {
  return <main className="page">ImportPage</main>;
}
