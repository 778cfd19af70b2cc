/** Placeholder until the page is built. */
export default function Labeling() {
  return <main className="page">Labeling</main>;
}
