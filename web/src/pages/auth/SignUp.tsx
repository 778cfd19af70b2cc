/** `/sign-up`: a new account through `POST /user/signup`, signed in on success. */
import { Link } from "react-router-dom";

import { signUp } from "../../api/users";
import { AuthForm } from "./AuthForm";

export default function SignUp() {
  return (
    <AuthForm
      heading="Create your account"
      submitLabel="Sign up"
      newPassword={true}
      submit={signUp}
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
