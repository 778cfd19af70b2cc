/**
 * `/projects/:projectId/settings/:section`: the project's settings, one section per page,
 * with a side menu. Unknown sections go to General.
 */
import type { ComponentType } from "react";
import { Navigate, NavLink, useParams } from "react-router-dom";

import { useProject } from "../../layout";
import { AccessSettings } from "./AccessSettings";
import { DangerZone } from "./DangerZone";
import { GeneralSettings } from "./GeneralSettings";
import { InstructionsSettings } from "./InstructionsSettings";
import { LabelingSettings } from "./LabelingSettings";
import { MembersSettings } from "./MembersSettings";
import { MlSettings } from "./MlSettings";
import { StorageSettings } from "./StorageSettings";
import { WebhookSettings } from "./WebhookSettings";

interface Section {
  slug: string;
  title: string;
  intro: string;
  component: ComponentType;
}

const SETTINGS_SECTIONS: Section[] = [
  { slug: "general", title: "General", intro: "Name, description and how tasks reach annotators.", component: GeneralSettings },
  { slug: "labeling", title: "Labeling interface", intro: "What annotators see and which labels they can give.", component: LabelingSettings },
  { slug: "instructions", title: "Instructions", intro: "Guidance shown to annotators.", component: InstructionsSettings },
  { slug: "members", title: "Members", intro: "Who works on the project, and in which role.", component: MembersSettings },
  { slug: "access", title: "Access", intro: "Which annotators and reviewers see this project.", component: AccessSettings },
  { slug: "ml", title: "Machine learning", intro: "Model servers for pre-labels and training.", component: MlSettings },
  { slug: "storage", title: "Cloud storage", intro: "Buckets and folders tasks come from and annotations go to.", component: StorageSettings },
  { slug: "webhooks", title: "Webhooks", intro: "Notify other systems when things change.", component: WebhookSettings },
  { slug: "danger", title: "Danger zone", intro: "Actions that cannot be undone.", component: DangerZone },
];

export default function ProjectSettings() {
  const { section } = useParams();
  const { project } = useProject();
  const current = SETTINGS_SECTIONS.find((candidate) => candidate.slug === section);
  if (!current) return <Navigate to={`/projects/${project.id}/settings/general`} replace />;
  const Component = current.component;

  return (
    <main className="page">
      <div className="settings-layout">
        <nav className="settings-nav" aria-label="Settings sections">
          {SETTINGS_SECTIONS.map((candidate) => (
            <NavLink
              key={candidate.slug}
              to={`/projects/${project.id}/settings/${candidate.slug}`}
              className={candidate.slug === "danger" ? "danger" : undefined}
            >
              {candidate.title}
            </NavLink>
          ))}
        </nav>
        <section className="settings-section" aria-labelledby="settings-heading">
          <h2 id="settings-heading">{current.title}</h2>
          <p className="section-intro">{current.intro}</p>
          {/* Keyed by project and section so a section's form starts from fresh values. */}
          <Component key={`${project.id}-${current.slug}`} />
        </section>
      </div>
    </main>
  );
}
