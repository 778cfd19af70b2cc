export { AppShell } from "./AppShell";
export type { AppShellProps } from "./AppShell";
export { ProjectLayout, useOptionalProject, useProject } from "./ProjectLayout";
export type { ProjectState } from "./ProjectLayout";
export { PROJECT_SECTIONS, ProjectNav } from "./ProjectNav";
