/**
 * Who is signed in. `RequireAuth` asks `/api/current-user/whoami` once and sends a 401 to
 * `/sign-in?next=<this page>`; pages under it read the user with `useCurrentUser()`.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from "react";
import type { ReactNode } from "react";
import { Navigate, Outlet, useLocation, useNavigate } from "react-router-dom";

import { ApiError, UNAUTHENTICATED_EVENT } from "../api/client";
import type { CurrentUser } from "../api/types";
import { signOut as signOutRequest, whoami } from "../api/users";
import { ErrorList, LoadingBlock } from "../ui";

export interface CurrentUserState {
  user: CurrentUser;
  /** Asks the server again (after a profile change). */
  refresh: () => Promise<void>;
  /** Ends the session and goes to the sign-in page. */
  signOut: () => Promise<void>;
}

const CurrentUserContext = createContext<CurrentUserState | null>(null);

/** The signed-in user; only valid under `RequireAuth`. */
export function useCurrentUser(): CurrentUserState {
  const state = useContext(CurrentUserContext);
  if (!state) throw new Error("useCurrentUser() is only available under <RequireAuth>");
  return state;
}

/** The signed-in user, or null outside `RequireAuth` (for components used on both sides). */
export function useOptionalCurrentUser(): CurrentUserState | null {
  return useContext(CurrentUserContext);
}

/** The in-app path to come back to after signing in, or "/projects" if `next` is unsafe. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//")) return "/projects";
  if (next.startsWith("/sign-in") || next.startsWith("/sign-up")) return "/projects";
  return next;
}

export function signInPath(location: { pathname: string; search: string; hash: string }): string {
  const next = `${location.pathname}${location.search}${location.hash}`;
  return `/sign-in?next=${encodeURIComponent(next)}`;
}

/** Renders its children (or the nested route) only for a signed-in user. */
export function RequireAuth({ children }: { children?: ReactNode }) {
  const location = useLocation();
  const navigate = useNavigate();
  const [user, setUser] = useState<CurrentUser | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [unauthenticated, setUnauthenticated] = useState(false);

  const load = useCallback(async (signal?: AbortSignal) => {
    try {
      const me = await whoami(signal);
      setUser(me);
      setError(null);
    } catch (caught) {
      if (signal?.aborted) return;
      if (caught instanceof ApiError && caught.status === 401) setUnauthenticated(true);
      else setError(caught);
    }
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);

  // A session that expires while a page is open sends the user to sign in, back here after.
  useEffect(() => {
    const onUnauthenticated = () => setUnauthenticated(true);
    window.addEventListener(UNAUTHENTICATED_EVENT, onUnauthenticated);
    return () => window.removeEventListener(UNAUTHENTICATED_EVENT, onUnauthenticated);
  }, []);

  const signOut = useCallback(async () => {
    try {
      await signOutRequest();
    } finally {
      setUser(null);
      navigate("/sign-in", { replace: true });
    }
  }, [navigate]);

  const state = useMemo<CurrentUserState | null>(
    () => (user ? { user, refresh: () => load(), signOut } : null),
    [user, load, signOut],
  );

  if (unauthenticated) return <Navigate to={signInPath(location)} replace />;
  if (error) {
    return (
      <main className="page">
        <ErrorList error={error} title="Could not load your account" />
      </main>
    );
  }
  if (!state) return <LoadingBlock />;
  return (
    <CurrentUserContext.Provider value={state}>{children ?? <Outlet />}</CurrentUserContext.Provider>
  );
}
