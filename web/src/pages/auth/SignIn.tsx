/** Placeholder until the page is built. */
export default function SignIn() {
  return <main className="page">SignIn</main>;
}
