/** Placeholder until the page is built. */
export default function DataManager() {
  return <main className="page">DataManager</main>;
}
