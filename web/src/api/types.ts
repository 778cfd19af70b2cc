/**
 * Shapes of the Label Studio API as LabelOps serves it, named for the app.
 *
 * They are generated from the services' OpenAPI documents (`make openapi` writes
 * `./generated/<service>.ts`), never written by hand: a change of an answer on the server
 * shows up here as a type error. Request shapes the app builds itself (filters, view
 * data, import bodies) stay in their modules.
 */
import type { components as exportSvc } from "./generated/export-svc";
import type { components as projectSvc } from "./generated/project-svc";
import type { components as taskSvc } from "./generated/task-svc";

type ProjectSchemas = projectSvc["schemas"];
type ExportSchemas = exportSvc["schemas"];
type TaskSchemas = taskSvc["schemas"];

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
/** An annotator or reviewer admitted to a project (`/api/projects/{id}/members/`). */
export type ProjectMember = ProjectSchemas["ProjectMemberAnswer"];

export type Sampling = ProjectSchemas["Sampling"];
export type SkipQueue = ProjectSchemas["SkipQueue"];
/** One control tag of `parsed_label_config`. */
export type ParsedControl = ProjectSchemas["ParsedControl"];
/** The project counters task-svc keeps; null when task-svc has none yet. */
export type ProjectCounts = Omit<ProjectSchemas["ProjectCountsRow"], "id">;
export type Project = ProjectSchemas["ProjectAnswer"];
/** Every writable project field (create and PATCH). */
export type ProjectInput = ProjectSchemas["ProjectFields"];

/** A webhook as served: header names with their values masked, never the signing secret. */
export type Webhook = ProjectSchemas["WebhookAnswer"];
/** The answer to creating a webhook: the signing secret, once, when the server made it. */
export type CreatedWebhook = ProjectSchemas["WebhookCreatedAnswer"];
/** One delivery of an event to a webhook, from its delivery log. */
export type WebhookDelivery = ProjectSchemas["DeliveryAnswer"];

export type ExportFormat = ExportSchemas["ExportFormatAnswer"];
export type Snapshot = ExportSchemas["ExportAnswer"];
export type SnapshotStatus = Snapshot["status"];

/** One region or classification of an annotation or prediction; its shape is the editor's. */
export type ResultItem = TaskSchemas["AnnotationAnswer"]["result"][number];
export type TaskData = TaskSchemas["FullTaskAnswer"]["data"];
/** An annotation; inside a task (`GET /api/tasks/:id`) its author is expanded to a user. */
export type Annotation = Omit<TaskSchemas["AnnotationAnswer"], "completed_by"> & {
  completed_by: TaskSchemas["AnnotationAnswer"]["completed_by"] | TaskSchemas["AnnotatorAnswer"];
};
export type Prediction = TaskSchemas["PredictionAnswer"];
export type Draft = TaskSchemas["DraftAnswer"];
/** A draft on its own routes, with its author and age. */
export type DraftDetail = TaskSchemas["DraftDetailAnswer"];
/** `GET /api/tasks/:id`: the task with its annotations, predictions and the caller's drafts. */
export type Task = TaskSchemas["FullTaskAnswer"];
/** The label stream's answer: the task without annotations, with the caller's drafts. */
export type StreamTask = TaskSchemas["NextTaskAnswer"];
/** A data manager row; `fields=all` adds annotations, predictions and computed columns. */
export type TaskRow = TaskSchemas["DataManagerTaskAnswer"] & { [column: string]: unknown };
export type TaskPage = Omit<TaskSchemas["TaskPageAnswer"], "tasks"> & { tasks: TaskRow[] };

/** A review of an annotation: accepted, rejected (with its reason) or fixed and accepted. */
export type Review = TaskSchemas["ReviewAnswer"];
/** The review stream's answer: the annotation, its task and its earlier reviews. */
export type NextReview = TaskSchemas["NextReviewAnswer"];

export type Column = TaskSchemas["ColumnAnswer"];
export type Action = TaskSchemas["ActionAnswer"];
export type ActionResult = TaskSchemas["ActionResultAnswer"];
export type ViewAnswer = TaskSchemas["ViewAnswer"];

export type ImportResult = TaskSchemas["ImportResultAnswer"];
export type ImportQueued = TaskSchemas["ImportQueuedAnswer"];
export type ImportJob = TaskSchemas["ImportJobAnswer"];

/** A comment on a task or one of its annotations (`/api/comments/`). */
export type Comment = TaskSchemas["CommentAnswer"];
/** `GET /api/projects/{id}/analytics/`: figures per day or hour, and their totals. */
export type AnalyticsSeries = TaskSchemas["AnalyticsSeries"];
export type AnalyticsFigures = TaskSchemas["Figures"];
export type AnalyticsPoint = TaskSchemas["SeriesPoint"];
/** `GET /api/projects/{id}/analytics/people/`. */
export type AnalyticsPeople = TaskSchemas["AnalyticsPeople"];
export type PersonFigures = TaskSchemas["PersonFigures"];
