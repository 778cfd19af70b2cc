/** Placeholder until the page is built. */
export default function ExportPage() {
  return <main className="page">ExportPage</main>;
}
