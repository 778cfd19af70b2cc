/**
 * The frame around every signed-in page: the top bar (LabelOps, Projects, account, sign
 * out) and, on project pages, the project's sub-navigation. The route table renders it as
 * a layout route; a page that wraps itself in <AppShell> again gets no second frame.
 */
import { createContext, Suspense, useContext } from "react";
import type { ReactNode } from "react";
import { Link, NavLink, Outlet } from "react-router-dom";

import { useOptionalCurrentUser } from "../auth";
import { Button, LoadingBlock } from "../ui";
import { ProjectNav } from "./ProjectNav";

const InsideShell = createContext(false);

export interface AppShellProps {
  children?: ReactNode;
  /** Shows the project sub-nav for this project (the project layout route already does). */
  projectId?: number | string;
  projectTitle?: string;
}

export function AppShell({ children, projectId, projectTitle }: AppShellProps) {
  const nested = useContext(InsideShell);
  const content = children ?? <Outlet />;
  if (nested) return <>{content}</>;
  return (
    <InsideShell.Provider value={true}>
      <div className="app-shell">
        <TopBar />
        {projectId !== undefined && <ProjectNav projectId={projectId} title={projectTitle} />}
        <div className="app-main">
          <Suspense fallback={<LoadingBlock />}>{content}</Suspense>
        </div>
      </div>
    </InsideShell.Provider>
  );
}

function TopBar() {
  const current = useOptionalCurrentUser();
  const user = current?.user;
  const name = user
    ? [user.first_name, user.last_name].filter(Boolean).join(" ") || user.email
    : "";
  return (
    <header className="topbar">
      <Link to="/projects" className="topbar-brand" aria-label="LabelOps home">
        <span className="topbar-logo" aria-hidden="true">
          ◧
        </span>
        LabelOps
      </Link>
      <nav className="topbar-nav" aria-label="Main">
        <NavLink to="/projects" end className="topbar-link">
          Projects
        </NavLink>
      </nav>
      <div className="topbar-spacer" />
      {user && (
        <div className="topbar-user">
          <NavLink to="/account" className="topbar-link" title={user.email}>
            <span className="avatar" aria-hidden="true">
              {user.initials || user.email.slice(0, 2)}
            </span>
            <span className="topbar-username">{name}</span>
            <span className="visually-hidden"> (account)</span>
          </NavLink>
          <Button variant="ghost" size="small" onClick={() => void current?.signOut()}>
            Sign out
          </Button>
        </div>
      )}
    </header>
  );
}
