/**
 * `/projects`: the organization's projects as cards with their counts and progress,
 * searchable and paged as the API pages them; each card opens the project's data.
 */
import { useEffect, useState } from "react";
import type { CSSProperties } from "react";
import { Link, useSearchParams } from "react-router-dom";

import { listProjects } from "../../api/projects";
import type { Page, Project } from "../../api/types";
import {
  EmptyState,
  ErrorList,
  formatCount,
  formatDate,
  LoadingBlock,
  Pagination,
  ProgressBar,
  useDebounced,
} from "../../ui";

const PAGE_SIZE = 30;

export default function ProjectList() {
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number(params.get("page")) || 1);
  const [search, setSearch] = useState(params.get("search") ?? "");
  const debouncedSearch = useDebounced(search.trim(), 300);
  const [data, setData] = useState<Page<Project> | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const current = params.get("search") ?? "";
    if (current === debouncedSearch) return;
    const next = new URLSearchParams(params);
    if (debouncedSearch) next.set("search", debouncedSearch);
    else next.delete("search");
    next.delete("page");
    setParams(next, { replace: true });
  }, [debouncedSearch, params, setParams]);

  const activeSearch = params.get("search") ?? "";

  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    listProjects(
      { page, page_size: PAGE_SIZE, search: activeSearch || undefined, ordering: "-created_at" },
      controller.signal,
    )
      .then(setData)
      .catch((caught: unknown) => {
        if (!controller.signal.aborted) setError(caught);
      });
    return () => controller.abort();
  }, [page, activeSearch]);

  function goToPage(next: number) {
    const updated = new URLSearchParams(params);
    if (next > 1) updated.set("page", String(next));
    else updated.delete("page");
    setParams(updated);
    window.scrollTo({ top: 0 });
  }

  return (
    <main className="page">
      <div className="page-header">
        <h1>Projects</h1>
        {data && <span className="badge">{formatCount(data.count)}</span>}
        <div className="spacer" />
        <Link to="/projects/new" className="btn btn-primary">
          Create project
        </Link>
      </div>
      <div className="list-toolbar">
        <input
          className="input"
          type="search"
          aria-label="Search projects"
          placeholder="Search projects…"
          value={search}
          onChange={(event) => setSearch(event.target.value)}
        />
      </div>
      <ErrorList error={error} title="Could not load projects" />
      {!data && !error && <LoadingBlock label="Loading projects…" />}
      {data && data.results.length === 0 && (
        <EmptyState
          title={activeSearch ? "No projects match your search" : "No projects yet"}
          action={
            !activeSearch && (
              <Link to="/projects/new" className="btn btn-primary">
                Create your first project
              </Link>
            )
          }
        >
          {activeSearch
            ? `Nothing is called “${activeSearch}”.`
            : "A project holds a labeling configuration, the tasks to label and their annotations."}
        </EmptyState>
      )}
      {data && data.results.length > 0 && (
        <>
          <ul className="project-grid" aria-label="Projects" style={{ listStyle: "none", margin: 0, padding: 0 }}>
            {data.results.map((project) => (
              <li key={project.id}>
                <ProjectCard project={project} />
              </li>
            ))}
          </ul>
          <Pagination page={page} pageSize={PAGE_SIZE} count={data.count} onPage={goToPage} label="Project pages" />
        </>
      )}
    </main>
  );
}

function ProjectCard({ project }: { project: Project }) {
  const total = project.task_number ?? 0;
  const annotated = project.num_tasks_with_annotations ?? 0;
  const title = project.title || "Untitled project";
  // Label Studio's default color is white; only a chosen color marks the card.
  const chosen = project.color && project.color.toUpperCase() !== "#FFFFFF" ? project.color : undefined;
  const style = { "--project-color": chosen } as CSSProperties;
  return (
    <article className="project-card" style={style} aria-label={title}>
      <div className="project-card-head">
        <h2>
          {/* The title link covers the whole card (see .project-card-link::after). */}
          <Link to={`/projects/${project.id}/data`} className="project-card-link">
            {title}
          </Link>
        </h2>
        <Link
          to={`/projects/${project.id}/settings/general`}
          className="project-card-settings"
          aria-label={`Settings of ${title}`}
          title="Settings"
        >
          ⚙
        </Link>
      </div>
      <div className="project-card-description">
        {project.description || <span className="muted">No description</span>}
      </div>
      <div className="project-card-stats">
        <span>
          <strong>{formatCount(total)}</strong> tasks
        </span>
        <span>
          <strong>{formatCount(annotated)}</strong> annotated
        </span>
        <span>
          <strong>{formatCount(project.total_annotations_number)}</strong> annotations
        </span>
      </div>
      <ProgressBar done={annotated} total={total} label={`Progress of ${title}`} />
      <div className="project-card-footer">
        <span>{total > 0 ? `${Math.round((annotated / total) * 100)}% annotated` : "No tasks yet"}</span>
        <span>Created {formatDate(project.created_at)}</span>
      </div>
    </article>
  );
}
