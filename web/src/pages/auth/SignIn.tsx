/** `/sign-in`: email and password to `POST /user/login`, then back to `next`. */
import { Link } from "react-router-dom";

import { signIn } from "../../api/users";
import { AuthForm } from "./AuthForm";

export default function SignIn() {
  return (
    <AuthForm
      heading="Sign in"
      submitLabel="Sign in"
      newPassword={false}
      submit={signIn}
      footer={(next) => (
        <>
          No account yet?{" "}
          <Link to={next === "/projects" ? "/sign-up" : `/sign-up?next=${encodeURIComponent(next)}`}>
            Create one
          </Link>
        </>
      )}
    />
  );
}
