/** General: name, description, color, and how tasks are distributed to annotators. */
import { useState } from "react";
import type { FormEvent } from "react";

import { ApiError } from "../../api/client";
import { updateProject } from "../../api/projects";
import type { Project, ProjectInput, Sampling, SkipQueue } from "../../api/types";
import { useProject } from "../../layout";
import { Button, Checkbox, ErrorList, Field, Select, TextArea, TextInput, useToast } from "../../ui";

type Form = {
  title: string;
  description: string;
  color: string;
  sampling: Sampling;
  skip_queue: SkipQueue;
  maximum_annotations: string;
  overlap_cohort_percentage: string;
  agreement_threshold: string;
  agreement_iou_threshold: string;
  show_skip_button: boolean;
  enable_empty_annotation: boolean;
  show_annotation_history: boolean;
  annotators_see_others_annotations: boolean;
  show_collab_predictions: boolean;
  show_ground_truth_first: boolean;
  show_overlap_first: boolean;
};

function formOf(project: Project): Form {
  return {
    title: project.title ?? "",
    description: project.description ?? "",
    color: project.color || "#FFFFFF",
    sampling: project.sampling,
    skip_queue: project.skip_queue,
    maximum_annotations: String(project.maximum_annotations ?? 1),
    overlap_cohort_percentage: String(project.overlap_cohort_percentage ?? 100),
    agreement_threshold: project.agreement_threshold == null ? "" : String(project.agreement_threshold),
    agreement_iou_threshold: String(project.agreement_iou_threshold ?? 0.5),
    show_skip_button: project.show_skip_button,
    enable_empty_annotation: project.enable_empty_annotation,
    show_annotation_history: project.show_annotation_history,
    annotators_see_others_annotations: project.annotators_see_others_annotations,
    show_collab_predictions: project.show_collab_predictions,
    show_ground_truth_first: project.show_ground_truth_first,
    show_overlap_first: project.show_overlap_first,
  };
}

const NUMBER_FIELDS = new Set<keyof Form>([
  "maximum_annotations",
  "overlap_cohort_percentage",
  "agreement_threshold",
  "agreement_iou_threshold",
]);

/** Only what changed, typed as the API wants it (an emptied number field is null). */
function changes(before: Form, after: Form): ProjectInput {
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(after) as (keyof Form)[]) {
    if (before[key] === after[key]) continue;
    if (NUMBER_FIELDS.has(key)) {
      result[key] = after[key] === "" ? null : Number(after[key]);
    } else {
      result[key] = after[key];
    }
  }
  return result as ProjectInput;
}

export function GeneralSettings() {
  const { project, setProject } = useProject();
  const toast = useToast();
  const [saved, setSaved] = useState(() => formOf(project));
  const [form, setForm] = useState(saved);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const fieldErrors = error instanceof ApiError ? error.fieldErrors : {};
  const pending = changes(saved, form);
  const dirty = Object.keys(pending).length > 0;

  function set<K extends keyof Form>(key: K, value: Form[K]) {
    setForm((current) => ({ ...current, [key]: value }));
  }

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const updated = await updateProject(project.id, pending);
      setProject(updated);
      const fresh = formOf(updated);
      setSaved(fresh);
      setForm(fresh);
      toast.show("Project settings saved", "success");
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={onSubmit} aria-label="General settings">
      <div className="card">
        <TextInput
          label="Project name"
          value={form.title}
          maxLength={50}
          onChange={(event) => set("title", event.target.value)}
          errors={fieldErrors.title}
        />
        <TextArea
          label="Description"
          rows={3}
          value={form.description}
          onChange={(event) => set("description", event.target.value)}
          errors={fieldErrors.description}
        />
        <Field label="Color" errors={fieldErrors.color} hint="Marks the project's card in the list.">
          {(aria) => (
            <input
              {...aria}
              className="input"
              type="color"
              value={/^#[0-9a-fA-F]{6}$/.test(form.color) ? form.color : "#ffffff"}
              onChange={(event) => set("color", event.target.value.toUpperCase())}
            />
          )}
        </Field>
      </div>

      <div className="card">
        <h3>Task distribution</h3>
        <div className="form-grid">
          <Select
            label="Task sampling"
            value={form.sampling}
            onChange={(event) => set("sampling", event.target.value as Sampling)}
            errors={fieldErrors.sampling}
            options={[
              { value: "Sequential sampling", label: "Sequential: tasks in id order" },
              { value: "Uniform sampling", label: "Random: tasks in random order" },
              { value: "Uncertainty sampling", label: "Uncertainty: least certain predictions first" },
            ]}
          />
          <Select
            label="Skipped tasks"
            value={form.skip_queue}
            onChange={(event) => set("skip_queue", event.target.value as SkipQueue)}
            errors={fieldErrors.skip_queue}
            options={[
              { value: "REQUEUE_FOR_OTHERS", label: "Requeue for other annotators" },
              { value: "REQUEUE_FOR_ME", label: "Requeue to the end of my queue" },
              { value: "IGNORE_SKIPPED", label: "Count a skip as done" },
            ]}
          />
          <TextInput
            label="Annotations per task"
            type="number"
            min={1}
            value={form.maximum_annotations}
            onChange={(event) => set("maximum_annotations", event.target.value)}
            errors={fieldErrors.maximum_annotations}
            hint="How many annotators label each task (overlap)."
          />
          <TextInput
            label="Tasks with overlap (%)"
            type="number"
            min={1}
            max={100}
            value={form.overlap_cohort_percentage}
            onChange={(event) => set("overlap_cohort_percentage", event.target.value)}
            errors={fieldErrors.overlap_cohort_percentage}
            hint="The share of tasks that get more than one annotation."
          />
          <TextInput
            label="Agreement threshold"
            type="number"
            min={0}
            max={1}
            step="any"
            value={form.agreement_threshold}
            onChange={(event) => set("agreement_threshold", event.target.value)}
            errors={fieldErrors.agreement_threshold}
            hint="Tasks whose annotators agree less than this (0-1) need review. Empty: none."
          />
          <TextInput
            label="Box match IoU"
            type="number"
            min={0}
            max={1}
            step="any"
            value={form.agreement_iou_threshold}
            onChange={(event) => set("agreement_iou_threshold", event.target.value)}
            errors={fieldErrors.agreement_iou_threshold}
            hint="Two boxes or polygons with the same label agree at this overlap (IoU) or more."
          />
        </div>
        <Checkbox
          label="Show tasks with overlap first"
          checked={form.show_overlap_first}
          onChange={(event) => set("show_overlap_first", event.target.checked)}
        />
        <Checkbox
          label="Show ground-truth tasks first"
          checked={form.show_ground_truth_first}
          onChange={(event) => set("show_ground_truth_first", event.target.checked)}
        />
      </div>

      <div className="card">
        <h3>Labeling interface</h3>
        <Checkbox
          label="Show the Skip button"
          checked={form.show_skip_button}
          onChange={(event) => set("show_skip_button", event.target.checked)}
        />
        <Checkbox
          label="Allow empty annotations"
          checked={form.enable_empty_annotation}
          onChange={(event) => set("enable_empty_annotation", event.target.checked)}
        />
        <Checkbox
          label="Show annotation history"
          checked={form.show_annotation_history}
          onChange={(event) => set("show_annotation_history", event.target.checked)}
        />
        <Checkbox
          label="Annotators see each other's annotations"
          checked={form.annotators_see_others_annotations}
          onChange={(event) => set("annotators_see_others_annotations", event.target.checked)}
          hint="Off: an annotator sees only their own annotations, so overlapping annotators label independently. Reviewers and managers always see all."
        />
        <Checkbox
          label="Show predictions to annotators"
          checked={form.show_collab_predictions}
          onChange={(event) => set("show_collab_predictions", event.target.checked)}
        />
      </div>

      <ErrorList error={error instanceof ApiError && Object.keys(fieldErrors).length > 0 ? null : error} />
      <div className="button-row" style={{ marginTop: 16 }}>
        <Button type="submit" variant="primary" busy={busy} disabled={!dirty}>
          Save
        </Button>
        <Button disabled={!dirty || busy} onClick={() => setForm(saved)}>
          Discard changes
        </Button>
      </div>
    </form>
  );
}
