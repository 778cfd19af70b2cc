/** Placeholder until the page is built. */
export default function CreateProject() {
  return <main className="page">CreateProject</main>;
}
