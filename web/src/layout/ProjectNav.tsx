/** The project sub-navigation: the project's name and its Data / Label / Review / Import / Export / Analytics / Settings pages. */
import { Link, NavLink } from "react-router-dom";

export const PROJECT_SECTIONS = [
  { path: "data", label: "Data" },
  { path: "label", label: "Label" },
  { path: "review", label: "Review" },
  { path: "import", label: "Import" },
  { path: "export", label: "Export" },
  { path: "analytics", label: "Analytics" },
  { path: "settings", label: "Settings" },
] as const;

/** Sections only some roles use: Review is for reviewers, managers and up. */
const REVIEW_SECTION = "review";

export function ProjectNav({
  projectId,
  title,
  canReview = true,
}: {
  projectId: number | string;
  title?: string;
  canReview?: boolean;
}) {
  return (
    <div className="project-nav">
      <div className="project-nav-title">
        <Link to="/projects" className="project-nav-crumb">
          Projects
        </Link>
        <span aria-hidden="true"> / </span>
        <Link to={`/projects/${projectId}/data`} className="project-nav-name">
          {title ?? `Project ${projectId}`}
        </Link>
      </div>
      <nav aria-label="Project" className="project-nav-links">
        {PROJECT_SECTIONS.filter((section) => canReview || section.path !== REVIEW_SECTION).map((section) => (
          <NavLink
            key={section.path}
            to={`/projects/${projectId}/${section.path}`}
            className="project-nav-link"
          >
            {section.label}
          </NavLink>
        ))}
      </nav>
    </div>
  );
}
