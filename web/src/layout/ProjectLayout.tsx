/**
 * The layout route of `/projects/:projectId/*`: loads the project once, shows the project
 * sub-nav, and gives the nested page the project through `useProject()`.
 *
 * `/projects/:projectId` itself goes to its data page before anything is shown. (As an index
 * route it waited for the project, and sent a click on a section made meanwhile back there.)
 */
import { createContext, Suspense, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { Link, Navigate, Outlet, useMatch, useParams } from "react-router-dom";

import { ApiError } from "../api/client";
import { useCurrentUser } from "../auth";
import { getProject } from "../api/projects";
import type { Project } from "../api/types";
import { EmptyState, ErrorList, LoadingBlock } from "../ui";
import { ProjectNav } from "./ProjectNav";

export interface ProjectState {
  project: Project;
  /** Fetches the project again (for fresh counts after an import or a submit). */
  reload: () => Promise<Project>;
  /** Replaces the project with a server answer already in hand (after a PATCH). */
  setProject: (project: Project) => void;
}

const ProjectContext = createContext<ProjectState | null>(null);

/** The current project; only valid under the project layout route. */
export function useProject(): ProjectState {
  const state = useContext(ProjectContext);
  if (!state) throw new Error("useProject() is only available under /projects/:projectId");
  return state;
}

/** The current project, or null outside the project layout route. */
export function useOptionalProject(): ProjectState | null {
  return useContext(ProjectContext);
}

export function ProjectLayout() {
  const { projectId = "" } = useParams();
  const atProjectRoot = useMatch("/projects/:projectId") !== null;
  const { user } = useCurrentUser();
  const [project, setProject] = useState<Project | null>(null);
  const [error, setError] = useState<unknown>(null);

  const reload = useCallback(async () => {
    const fresh = await getProject(projectId);
    setProject(fresh);
    return fresh;
  }, [projectId]);

  useEffect(() => {
    const controller = new AbortController();
    setProject(null);
    setError(null);
    getProject(projectId, controller.signal)
      .then(setProject)
      .catch((caught: unknown) => {
        if (!controller.signal.aborted) setError(caught);
      });
    return () => controller.abort();
  }, [projectId]);

  const state = useMemo<ProjectState | null>(
    () => (project ? { project, reload, setProject } : null),
    [project, reload],
  );

  if (atProjectRoot) return <Navigate to="data" replace />;

  if (error) {
    const missing = error instanceof ApiError && (error.status === 404 || error.status === 403);
    return (
      <main className="page">
        {missing ? (
          <EmptyState
            title="Project not found"
            action={<Link to="/projects">Back to projects</Link>}
          >
            It may have been deleted, or it belongs to another organization.
          </EmptyState>
        ) : (
          <ErrorList error={error} title="Could not load the project" />
        )}
      </main>
    );
  }

  return (
    <>
      <ProjectNav projectId={projectId} title={project?.title} canReview={user.role !== "annotator"} />
      {state ? (
        <ProjectContext.Provider value={state}>
          <Suspense fallback={<LoadingBlock />}>
            <Outlet />
          </Suspense>
        </ProjectContext.Provider>
      ) : (
        <LoadingBlock label="Loading project…" />
      )}
    </>
  );
}
