/** Placeholder until the page is built. */
export default function SignUp() {
  return <main className="page">SignUp</main>;
}
