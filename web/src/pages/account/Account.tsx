/** Placeholder until the page is built. */
export default function Account() {
  return <main className="page">Account</main>;
}
