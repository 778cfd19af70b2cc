/**
 * The labeling screen: the editor with one task, either the next one from the project's
 * label stream or the one named by `?task=ID`. Submitting, skipping and updating go to
 * task-svc; in the stream the next task follows at once; drafts save as the user works.
 */
import { useCallback, useEffect, useState } from "react";
import { Link, useLocation, useSearchParams } from "react-router-dom";

import {
  createAnnotation,
  deleteAnnotation,
  deleteDraft,
  skipTask,
  updateAnnotation,
} from "../../api/annotations";
import { getTask, nextTask, type Draft, type ResultItem, type StreamSelection, type StreamTask, type Task } from "../../api/tasks";
import { useCurrentUser } from "../../auth";
import { LabelStudioEditor, type SubmitContext } from "../../editor/LabelStudioEditor";
import { useProject } from "../../layout";
import { Button, EmptyState, ErrorList, LoadingBlock, useToast } from "../../ui";
import { CommentsPanel } from "./CommentsPanel";
import "./labeling.css";

type Screen =
  | { kind: "loading" }
  | { kind: "task"; task: Task | StreamTask; shownAt: number }
  | { kind: "done" }
  | { kind: "failed"; error: unknown };

function parseTaskId(value: string | null): number | null {
  if (!value) return null;
  const number = Number(value);
  return Number.isInteger(number) && number > 0 ? number : null;
}

/** An annotation's author: an id in the stream's answer, a user object in a full task. */
function authorId(completedBy: unknown): number | null {
  if (typeof completedBy === "number") return completedBy;
  if (completedBy && typeof completedBy === "object" && "id" in completedBy) {
    const id = (completedBy as { id: unknown }).id;
    return typeof id === "number" ? id : null;
  }
  return null;
}

export default function Labeling() {
  const { project, reload: reloadProject } = useProject();
  const { user } = useCurrentUser();
  const toast = useToast();
  const [params, setParams] = useSearchParams();
  const chosenTaskId = parseTaskId(params.get("task"));
  // "Label all tasks" in the data manager passes its filters and order along.
  const location = useLocation();
  const selection = (location.state as { selection?: StreamSelection } | null)?.selection;
  const selectionKey = selection ? JSON.stringify(selection) : "";
  const [screen, setScreen] = useState<Screen>({ kind: "loading" });
  const [saveError, setSaveError] = useState<unknown>(null);
  const [draftSavedAt, setDraftSavedAt] = useState<string | null>(null);
  const [completed, setCompleted] = useState(0);

  const load = useCallback(
    async (signal?: AbortSignal) => {
      setScreen({ kind: "loading" });
      setSaveError(null);
      setDraftSavedAt(null);
      try {
        const narrowing = selectionKey ? (JSON.parse(selectionKey) as StreamSelection) : undefined;
        const task =
          chosenTaskId !== null
            ? await getTask(chosenTaskId, signal)
            : await nextTask(project.id, signal, narrowing);
        if (signal?.aborted) return;
        setScreen(task ? { kind: "task", task, shownAt: Date.now() } : { kind: "done" });
      } catch (caught) {
        if (!signal?.aborted) setScreen({ kind: "failed", error: caught });
      }
    },
    [chosenTaskId, project.id, selectionKey],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);

  /** After a save: the next task in the stream, or the same task again with its new annotation. */
  const afterSave = useCallback(
    async (message: string) => {
      toast.show(message, "success");
      setCompleted((count) => count + 1);
      void reloadProject().catch(() => undefined);
      await load();
    },
    [load, reloadProject, toast],
  );

  const task = screen.kind === "task" ? screen.task : null;
  // The caller's annotations a reviewer rejected: the stream sends them back with the
  // task, and the annotator updates them (the reason shows above the editor).
  const rejected = (task?.annotations ?? []).filter(
    (annotation) => annotation.review_status === "rejected" && authorId(annotation.completed_by) === user.id,
  );

  const onSubmit = useCallback(
    async (result: ResultItem[], context: SubmitContext) => {
      if (!task) return;
      setSaveError(null);
      try {
        await createAnnotation(task.id, { result, lead_time: context.leadTime, draft_id: context.draftId });
      } catch (caught) {
        setSaveError(caught);
        throw caught;
      }
      await afterSave(`Task ${task.id}: annotation submitted`);
    },
    [afterSave, task],
  );

  const onUpdate = useCallback(
    async (annotationId: number, result: ResultItem[], context: SubmitContext) => {
      if (!task) return;
      setSaveError(null);
      try {
        await updateAnnotation(annotationId, { result, lead_time: context.leadTime });
        // The update holds what the draft held; a draft left behind would come back later.
        if (context.draftId !== null) await deleteDraft(context.draftId).catch(() => undefined);
      } catch (caught) {
        setSaveError(caught);
        throw caught;
      }
      await afterSave(`Task ${task.id}: annotation ${annotationId} updated`);
    },
    [afterSave, task],
  );

  const onSkip = useCallback(
    async (result: ResultItem[], context: SubmitContext) => {
      if (!task) return;
      setSaveError(null);
      try {
        await skipTask(task.id, { result, lead_time: context.leadTime, draft_id: context.draftId });
      } catch (caught) {
        setSaveError(caught);
        throw caught;
      }
      if (chosenTaskId !== null) {
        await afterSave(`Task ${task.id} skipped`);
      } else {
        toast.show(`Task ${task.id} skipped`, "info");
        void reloadProject().catch(() => undefined);
        await load();
      }
    },
    [afterSave, chosenTaskId, load, reloadProject, task, toast],
  );

  const onDelete = useCallback(
    async (annotationId: number) => {
      setSaveError(null);
      try {
        await deleteAnnotation(annotationId);
      } catch (caught) {
        setSaveError(caught);
        throw caught;
      }
      toast.show(`Annotation ${annotationId} deleted`, "success");
      void reloadProject().catch(() => undefined);
      await load();
    },
    [load, reloadProject, toast],
  );

  const onDraftSaved = useCallback((draft: Draft) => {
    setDraftSavedAt(draft.updated_at ?? draft.created_at ?? new Date().toISOString());
  }, []);

  return (
    <main className="page labeling-page">
      <div className="labeling-header">
        <h1 className="labeling-title">
          {task ? `Task ${task.id}` : chosenTaskId !== null ? `Task ${chosenTaskId}` : "Label stream"}
        </h1>
        <span className="muted labeling-mode">
          {chosenTaskId !== null
            ? "Chosen task"
            : selectionKey
              ? "Next task among the data manager's filtered tasks"
              : "Next task from the label stream"}
          {completed > 0 ? ` · ${completed} saved this session` : ""}
        </span>
        <span className="labeling-draft" role="status" aria-live="polite">
          {draftSavedAt ? `Draft saved ${new Date(draftSavedAt).toLocaleTimeString()}` : ""}
        </span>
        <div className="button-row">
          {chosenTaskId !== null && (
            <Button size="small" onClick={() => setParams({})}>
              Label next task in the stream
            </Button>
          )}
          <Link className="btn btn-small btn-secondary" to={`/projects/${project.id}/data`}>
            Back to data manager
          </Link>
        </div>
      </div>
      {project.show_instruction && project.expert_instruction && (
        <details className="labeling-instructions">
          <summary>Instructions</summary>
          <div className="labeling-instructions-text">{project.expert_instruction}</div>
        </details>
      )}
      {rejected.map((annotation) => (
        <div key={annotation.id} className="labeling-rejected" role="alert">
          <strong>A reviewer rejected your annotation {annotation.id}.</strong>{" "}
          {annotation.review_comment ? `Reason: ${annotation.review_comment}` : ""}
        </div>
      ))}
      <ErrorList error={saveError} title="The annotation was not saved" />
      {screen.kind === "loading" && <LoadingBlock label="Loading task…" />}
      {screen.kind === "failed" && <ErrorList error={screen.error} title="Could not load the task" />}
      {screen.kind === "done" && (
        <EmptyState
          title="No more tasks to label"
          action={
            <div className="button-row">
              <Link className="btn btn-primary" to={`/projects/${project.id}/data`}>
                Go to the data manager
              </Link>
              <Link className="btn btn-secondary" to={`/projects/${project.id}/import`}>
                Import more tasks
              </Link>
            </div>
          }
        >
          Every task of this project is labeled (or locked by another annotator).
        </EmptyState>
      )}
      {screen.kind === "task" && (
        <div className="labeling-body">
          <div className="labeling-editor">
            <LabelStudioEditor
              key={`${screen.task.id}-${screen.shownAt}`}
              config={project.label_config}
              task={screen.task}
              user={user}
              mode={chosenTaskId !== null || rejected.length > 0 ? "task" : "stream"}
              showSkip={project.show_skip_button}
              onSubmit={onSubmit}
              onUpdate={onUpdate}
              onSkip={onSkip}
              onDelete={onDelete}
              onError={setSaveError}
              onDraftSaved={onDraftSaved}
            />
          </div>
          <CommentsPanel taskId={screen.task.id} user={user} />
        </div>
      )}
    </main>
  );
}
