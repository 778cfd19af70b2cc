/** `/sign-up`: a new account through `POST /user/signup`, signed in on success. An invite
 * link (`/user/signup/?token=...`, sent here by the server) carries the organization's token. */
import { Link, useSearchParams } from "react-router-dom";

import { signUp } from "../../api/users";
import { AuthForm } from "./AuthForm";

export default function SignUp() {
  const [params] = useSearchParams();
  const token = params.get("token");
  return (
    <AuthForm
      heading={token ? "Join your team" : "Create your account"}
      submitLabel="Sign up"
      newPassword={true}
      submit={(email, password) => signUp(email, password, token)}
      footer={(next) => (
        <>
          Already have an account?{" "}
          <Link to={next === "/projects" ? "/sign-in" : `/sign-in?next=${encodeURIComponent(next)}`}>
            Sign in
          </Link>
        </>
      )}
    />
  );
}
