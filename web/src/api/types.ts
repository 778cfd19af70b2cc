/**
 * Shapes of the Label Studio API as LabelOps serves it, named for the app.
 *
 * They are generated from the services' OpenAPI documents (`make openapi` writes
 * `./generated/<service>.ts`), never written by hand: a change of an answer on the server
 * shows up here as a type error. What only task-svc serves (tasks, annotations, the data
 * manager, imports) is still written by hand in its module, until task-svc's routes
 * declare their answers too.
 */
import type { components as exportSvc } from "./generated/export-svc";
import type { components as projectSvc } from "./generated/project-svc";

type ProjectSchemas = projectSvc["schemas"];
type ExportSchemas = exportSvc["schemas"];

/** Label Studio's page envelope (`?page=&page_size=`), for any item type. */
export type Page<T> = Omit<ProjectSchemas["Page_ProjectAnswer_"], "results"> & { results: T[] };

export type Role = ProjectSchemas["Role"];

/** A project's creator (Label Studio's `UserSimple`). */
export type UserBrief = ProjectSchemas["CreatorAnswer"];
export type User = ProjectSchemas["UserAnswer"];
/** `GET /api/current-user/whoami`. */
export type CurrentUser = ProjectSchemas["WhoamiAnswer"];

/** An item of `GET /api/organizations`. */
export type OrganizationBrief = ProjectSchemas["OrganizationBrief"];
export type Organization = ProjectSchemas["OrganizationAnswer"];
export type Membership = ProjectSchemas["MembershipAnswer"];

export type Sampling = ProjectSchemas["Sampling"];
export type SkipQueue = ProjectSchemas["SkipQueue"];
/** One control tag of `parsed_label_config`. */
export type ParsedControl = ProjectSchemas["ParsedControl"];
/** The project counters task-svc keeps; null when task-svc has none yet. */
export type ProjectCounts = Omit<ProjectSchemas["ProjectCountsRow"], "id">;
export type Project = ProjectSchemas["ProjectAnswer"];
/** Every writable project field (create and PATCH). */
export type ProjectInput = ProjectSchemas["ProjectFields"];

export type ExportFormat = ExportSchemas["ExportFormatAnswer"];
export type Snapshot = ExportSchemas["ExportAnswer"];
export type SnapshotStatus = Snapshot["status"];
