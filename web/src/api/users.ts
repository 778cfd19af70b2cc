/** The signed-in user: who am I, sign in/up/out, API token, hotkeys; users of the organization. */
import { api, apiResponse } from "./client";
import type { CurrentUser, User } from "./types";

export function whoami(signal?: AbortSignal): Promise<CurrentUser> {
  return api<CurrentUser>("/api/current-user/whoami", { signal });
}

export function signIn(email: string, password: string): Promise<User> {
  return api<User>("/user/login", { method: "POST", body: { email, password } });
}

/** With an organization's invite `token` (from its invite link), the account joins that
 * organization even when open sign-up is off. */
export function signUp(email: string, password: string, token?: string | null): Promise<User> {
  return api<User>("/user/signup", {
    method: "POST",
    body: token ? { email, password, token } : { email, password },
  });
}

/** Clears the session cookie; the server answers with a redirect we do not follow. */
export async function signOut(): Promise<void> {
  await apiResponse("/user/logout", { method: "POST", headers: { Accept: "text/html" } });
}

export function getApiToken(): Promise<{ token: string }> {
  return api<{ token: string }>("/api/current-user/token");
}

export function resetApiToken(): Promise<{ token: string }> {
  return api<{ token: string }>("/api/current-user/reset-token", { method: "POST" });
}

export function getHotkeys(): Promise<{ custom_hotkeys: Record<string, unknown> }> {
  return api("/api/current-user/hotkeys");
}

export function updateHotkeys(
  customHotkeys: Record<string, unknown>,
): Promise<{ custom_hotkeys: Record<string, unknown> }> {
  return api("/api/current-user/hotkeys", {
    method: "PATCH",
    body: { custom_hotkeys: customHotkeys },
  });
}

export interface UserUpdate {
  first_name?: string;
  last_name?: string;
  username?: string;
  phone?: string;
  email?: string;
  password?: string;
  /** Required by the server when one changes one's own password or email. */
  current_password?: string;
}

export function updateUser(userId: number, changes: UserUpdate): Promise<User> {
  return api<User>(`/api/users/${userId}`, { method: "PATCH", body: changes });
}

export function listUsers(): Promise<User[]> {
  return api<User[]>("/api/users");
}
