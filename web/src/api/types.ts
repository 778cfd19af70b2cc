/**
 * Shapes of the Label Studio API as LabelOps serves it (see /work/shared/contract).
 * Only what the app reads is typed; the server may send more.
 */

/** Label Studio's page envelope (`?page=&page_size=`). */
export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export type Role = "owner" | "administrator" | "manager" | "reviewer" | "annotator";

export interface UserBrief {
  id: number;
  first_name: string;
  last_name: string;
  email: string;
  avatar: string | null;
}

export interface User extends UserBrief {
  username: string;
  last_activity: string;
  custom_hotkeys: Record<string, unknown>;
  initials: string;
  phone: string;
  active_organization: number | null;
  allow_newsletters: boolean | null;
  date_joined: string;
}

/** `GET /api/current-user/whoami`. */
export interface CurrentUser extends User {
  active_organization_meta: { title: string; email: string } | null;
  role: Role | null;
  permissions: string[];
}

export interface Organization {
  id: number;
  title: string;
  contact_info: string | null;
  created_at: string;
  created_by?: number | null;
  legacy_api_tokens_enabled?: boolean;
  api_tokens_enabled?: boolean;
}

export interface Membership {
  id: number;
  organization: number;
  role: Role;
  user: User;
}

export type Sampling = "Sequential sampling" | "Uniform sampling" | "Uncertainty sampling";
export type SkipQueue = "REQUEUE_FOR_OTHERS" | "REQUEUE_FOR_ME" | "IGNORE_SKIPPED";

/** One control tag of `parsed_label_config`. */
export interface ParsedControl {
  type: string;
  to_name: string[];
  inputs: { type: string; value: string; valueType?: string | null }[];
  labels: string[];
  labels_attrs?: Record<string, unknown>;
}

/** The project counters task-svc keeps; null when task-svc has none yet. */
export interface ProjectCounts {
  task_number: number | null;
  finished_task_number: number | null;
  total_predictions_number: number | null;
  total_annotations_number: number | null;
  num_tasks_with_annotations: number | null;
  useful_annotation_number: number | null;
  ground_truth_number: number | null;
  skipped_annotations_number: number | null;
}

export interface Project extends ProjectCounts {
  id: number;
  title: string;
  description: string;
  label_config: string;
  expert_instruction: string;
  show_instruction: boolean;
  show_skip_button: boolean;
  enable_empty_annotation: boolean;
  show_annotation_history: boolean;
  organization: number;
  color: string;
  maximum_annotations: number;
  is_published: boolean;
  is_draft: boolean;
  model_version: string;
  created_by: UserBrief | null;
  created_at: string;
  updated_at: string;
  min_annotations_to_start_training: number;
  start_training_on_annotation_update: boolean;
  show_collab_predictions: boolean;
  sampling: Sampling;
  skip_queue: SkipQueue;
  show_ground_truth_first: boolean;
  show_overlap_first: boolean;
  overlap_cohort_percentage: number;
  annotator_evaluation_enabled?: boolean;
  evaluate_predictions_automatically: boolean;
  reveal_preannotations_interactively: boolean;
  task_data_login: string | null;
  task_data_password: null;
  control_weights: Record<string, unknown>;
  parsed_label_config: Record<string, ParsedControl>;
  config_has_control_tags: boolean;
  config_suitable_for_bulk_annotation: boolean;
  pinned_at: string | null;
  queue_total: number | null;
  queue_done: number | null;
}

/** Every writable project field (create and PATCH). */
export type ProjectInput = Partial<
  Pick<
    Project,
    | "title"
    | "description"
    | "label_config"
    | "expert_instruction"
    | "show_instruction"
    | "show_skip_button"
    | "enable_empty_annotation"
    | "show_annotation_history"
    | "color"
    | "maximum_annotations"
    | "is_published"
    | "is_draft"
    | "model_version"
    | "min_annotations_to_start_training"
    | "start_training_on_annotation_update"
    | "show_collab_predictions"
    | "sampling"
    | "skip_queue"
    | "show_ground_truth_first"
    | "show_overlap_first"
    | "overlap_cohort_percentage"
    | "evaluate_predictions_automatically"
    | "reveal_preannotations_interactively"
    | "task_data_login"
    | "control_weights"
  >
> & { task_data_password?: string | null; pinned_at?: string | null };
