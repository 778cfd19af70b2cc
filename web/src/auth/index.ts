export {
  RequireAuth,
  safeNext,
  signInPath,
  useCurrentUser,
  useOptionalCurrentUser,
} from "./CurrentUser";
export type { CurrentUserState } from "./CurrentUser";
