/**
 * The Label Studio editor (1.4.0, its own React inside a UMD bundle) mounted for one task.
 *
 * The editor owns everything inside its box: regions, its hotkeys (Ctrl+Enter submits,
 * Ctrl+Space skips), undo. This component hands it the task with its annotations and
 * predictions, starts the annotation the user works on (their draft, else the first
 * prediction as pre-labels, else an empty one), turns the editor's callbacks into the
 * caller's promises, saves drafts while the user works and when they leave, and destroys
 * the editor on unmount. A new task means a new editor: callers key it by task id.
 */
import { useEffect, useRef, useState } from "react";

import { createDraft, saveDraftOnLeave, updateDraft } from "../api/annotations";
import type { Annotation, Draft, Prediction, ResultItem, TaskData } from "../api/tasks";
import { ErrorList, LoadingBlock } from "../ui";
import { loadLabelStudio, type EditorObject, type LabelStudioInstance } from "./loadLabelStudio";
import { sanitizeTaskData } from "./sanitize";
import "./editor.css";

/** What the editor needs of a task (the full task, or a label-stream task). */
export interface EditorTask {
  id: number;
  data: TaskData;
  annotations?: Annotation[];
  predictions?: Prediction[];
  drafts?: Draft[];
}

export interface EditorUser {
  id: number;
  first_name?: string;
  last_name?: string;
  email?: string;
}

/** What a save carries besides the regions. */
export interface SubmitContext {
  /** Seconds since the task was shown. */
  leadTime: number;
  /** The autosaved draft this submit replaces (the server removes it). */
  draftId: number | null;
}

export type EditorMode =
  /** A fresh annotation on a task from the label stream. */
  | "stream"
  /** A chosen task: its existing annotations can be updated, or a new one submitted. */
  | "task"
  /** Looking only: no buttons, no drafts. */
  | "preview"
  /** A reviewer's view of one annotation: its regions can be changed (for a fix), but the
   * editor has no buttons and saves no drafts; the page reads the result (`resultRef`). */
  | "review";

export interface LabelStudioEditorProps {
  config: string;
  task: EditorTask;
  user: EditorUser;
  mode: EditorMode;
  showSkip?: boolean;
  onSubmit?: (result: ResultItem[], context: SubmitContext) => Promise<void>;
  onUpdate?: (annotationId: number, result: ResultItem[], context: SubmitContext) => Promise<void>;
  onSkip?: (result: ResultItem[], context: SubmitContext) => Promise<void>;
  onDelete?: (annotationId: number) => Promise<void>;
  /** A save failed; the editor keeps the user's work so they can try again. */
  onError?: (error: unknown) => void;
  /** A draft was saved (for a "draft saved" hint). */
  onDraftSaved?: (draft: Draft) => void;
  /** Set, once the editor is ready, to read the selected annotation's current result. */
  resultRef?: { current: (() => ResultItem[]) | null };
}

// The editor's MobX objects; their shapes are the editor's own, used through a few members.
type EditorAnnotation = EditorObject;
type EditorStore = EditorObject;

const EDITING_INTERFACES = [
  "panel",
  "update",
  "submit",
  "controls",
  "topbar",
  "infobar",
  "side-column",
  "edit-history",
  "annotations:menu",
  "annotations:add-new",
  "annotations:delete",
  "annotations:current",
  "annotations:tabs",
  "predictions:menu",
  "predictions:tabs",
];
const REVIEW_INTERFACES = ["panel", "side-column", "edit-history", "annotations:current", "annotations:tabs"];
const PREVIEW_INTERFACES = ["panel", "side-column", "annotations:tabs", "predictions:tabs", "annotations:current"];

function numericId(value: unknown): number | null {
  const number = typeof value === "string" ? Number(value) : value;
  return typeof number === "number" && Number.isInteger(number) && number > 0 ? number : null;
}

function serialize(annotation: EditorAnnotation): ResultItem[] {
  return (annotation?.serializeAnnotation?.() ?? []) as ResultItem[];
}

/** The annotation to work on when the editor opens. */
function startAnnotation(store: EditorStore, task: EditorTask, mode: EditorMode): void {
  const annotations = store.annotationStore;
  if (mode === "review" && annotations.annotations.length > 0) {
    annotations.selectAnnotation(annotations.annotations[0].id);
    return;
  }
  if (mode === "preview" || mode === "review") {
    // MobX arrays warn on reads past their end, so lengths are checked first.
    const first =
      annotations.annotations.length > 0
        ? annotations.annotations[0]
        : annotations.predictions.length > 0
          ? annotations.predictions[0]
          : annotations.addAnnotation({ userGenerate: true, editable: false });
    annotations.selectAnnotation(first.id);
    return;
  }
  const drafts = task.drafts ?? [];
  const ownDraft = drafts.find((draft) => draft.annotation === null);
  if (mode === "task" && !ownDraft && annotations.annotations.length > 0) {
    const existing = annotations.annotations[0];
    // The user's unsaved changes to this annotation come back as they left them.
    const changes = drafts.find((draft) => draft.annotation === numericId(existing.pk));
    if (changes) {
      existing.addVersions({ draft: changes.result });
      existing.deleteAllRegions({ deleteReadOnly: true });
      existing.deserializeResults(changes.result);
      existing.reinitHistory?.();
      existing.setDraftId(changes.id);
    }
    annotations.selectAnnotation(existing.id);
    return;
  }
  let annotation: EditorAnnotation;
  if (ownDraft) {
    annotation = annotations.addAnnotation({ userGenerate: true, draft: ownDraft.result });
    annotation.deserializeResults(ownDraft.result);
    annotation.reinitHistory?.();
    annotation.setDraftId(ownDraft.id);
  } else if (annotations.predictions.length > 0) {
    annotation = annotations.addAnnotationFromPrediction(annotations.predictions[0]);
  } else {
    annotation = annotations.addAnnotation({ userGenerate: true });
  }
  annotations.selectAnnotation(annotation.id);
}

/**
 * The task in the editor's own format: ids as `pk`, predictions with their score, and the
 * fields the config shows as HTML sanitized (the editor renders them as they are).
 */
function editorTask(config: string, task: EditorTask, mode: EditorMode) {
  const editable = mode !== "preview";
  return {
    id: task.id,
    data: sanitizeTaskData(config, task.data),
    annotations: (task.annotations ?? [])
      .filter((annotation) => !annotation.was_cancelled)
      .map((annotation) => ({
        id: annotation.id,
        pk: annotation.id,
        result: annotation.result,
        createdDate: annotation.created_at,
        leadTime: annotation.lead_time,
        editable,
      })),
    predictions: (task.predictions ?? []).map((prediction) => ({
      id: prediction.id,
      pk: prediction.id,
      result: prediction.result,
      score: prediction.score,
      createdBy: prediction.model_version || "prediction",
      createdDate: prediction.created_at,
    })),
  };
}

export function LabelStudioEditor(props: LabelStudioEditorProps) {
  const { config, task, user, mode } = props;
  const root = useRef<HTMLDivElement>(null);
  const latest = useRef(props);
  latest.current = props;
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const element = root.current;
    if (!element) return;
    let cancelled = false;
    let instance: LabelStudioInstance | null = null;
    /** The last draft save, run while the editor is being torn down. */
    let flushing = false;
    const shownAt = Date.now();
    // Drafts and the editor's own save buttons belong to annotating, not reviewing.
    const editing = mode === "stream" || mode === "task";
    const context = (annotation: EditorAnnotation): SubmitContext => ({
      leadTime: (Date.now() - shownAt) / 1000,
      draftId: numericId(annotation?.draftId),
    });
    const knownAnnotations = new Set((task.annotations ?? []).map((annotation) => annotation.id));
    const ofKnownAnnotation = (annotation: EditorAnnotation): number | null => {
      const annotationId = numericId(annotation?.pk);
      return annotationId !== null && knownAnnotations.has(annotationId) ? annotationId : null;
    };
    const selected = (): EditorAnnotation => instance?.store?.annotationStore?.selected ?? null;

    /** The editor calls this from its own debounced autosave while regions change. */
    const saveDraft = async (_store: EditorStore, annotation: EditorAnnotation) => {
      if (cancelled && !flushing) return;
      const body = { result: serialize(annotation), lead_time: (Date.now() - shownAt) / 1000 };
      const draftId = numericId(annotation.draftId);
      try {
        const draft = draftId
          ? await updateDraft(draftId, body)
          : await createDraft(task.id, body, ofKnownAnnotation(annotation));
        if (!draftId) annotation.setDraftId(draft.id);
        latest.current.onDraftSaved?.(draft);
      } catch (caught) {
        latest.current.onError?.(caught);
      }
    };

    /** Leaving the page: the last changes go out in a request that outlives the page. */
    const saveOnLeave = () => {
      const annotation = selected();
      if (!annotation?.autosave || annotation.autosave.paused) return;
      const draftId = numericId(annotation.draftId);
      const result = serialize(annotation);
      // A draft of an existing annotation needs its id first; the periodic save made it.
      // Nothing new is saved for an annotation the user has not touched (pre-labels alone).
      if (!draftId && (result.length === 0 || ofKnownAnnotation(annotation) !== null || !annotation.history?.canUndo)) {
        return;
      }
      annotation.autosave.cancel?.();
      saveDraftOnLeave(task.id, draftId, { result, lead_time: (Date.now() - shownAt) / 1000 });
    };

    /** One save at a time; on failure the editor stays as it is so the user can retry. */
    const settle = async (annotation: EditorAnnotation, save: () => Promise<void>) => {
      annotation?.pauseAutosave?.();
      try {
        await save();
        // A save usually moves on to another task, which tears this editor down first.
        if (!cancelled) annotation?.dropDraft?.();
      } catch (caught) {
        if (!cancelled) annotation?.startAutosave?.();
        latest.current.onError?.(caught);
      }
    };

    // Whether Skip shows and the user's name are read as the editor is built: neither is a
    // reason to rebuild it (the props of the render this effect follows, as `latest` holds).
    const { showSkip, user: named } = latest.current;
    const options = {
      config,
      interfaces: editing
        ? [...EDITING_INTERFACES, ...(showSkip === false ? [] : ["skip"])]
        : mode === "review"
          ? REVIEW_INTERFACES
          : PREVIEW_INTERFACES,
      user: {
        pk: user.id,
        firstName: named.first_name || named.email || `User ${user.id}`,
        lastName: named.last_name ?? "",
      },
      task: editorTask(config, task, mode),
      // The editor adds the task's predictions and annotations after its load event, and
      // selects them; only once its storage is initialized can the working one be chosen.
      onStorageInitialized: (store: EditorStore) => {
        if (cancelled) return;
        try {
          startAnnotation(store, task, mode);
          const resultRef = latest.current.resultRef;
          if (resultRef) resultRef.current = () => serialize(selected());
        } catch (caught) {
          setError(caught);
        }
        setLoading(false);
      },
      // The editor's hotkeys outlive `destroy()`; a destroyed editor must not save anything.
      onSubmitAnnotation: (_store: EditorStore, annotation: EditorAnnotation) => {
        if (cancelled || annotation?.type !== "annotation") return;
        return settle(annotation, () => latest.current.onSubmit?.(serialize(annotation), context(annotation)) ?? Promise.resolve());
      },
      onUpdateAnnotation: (_store: EditorStore, annotation: EditorAnnotation) => {
        // Only an annotation this task came with is updated: a selected prediction also
        // has a `pk`, and it is no annotation id.
        const annotationId = ofKnownAnnotation(annotation);
        if (cancelled || annotation?.type !== "annotation" || annotationId === null) return;
        return settle(annotation, () => latest.current.onUpdate?.(annotationId, serialize(annotation), context(annotation)) ?? Promise.resolve());
      },
      onSkipTask: (store: EditorStore) => {
        if (cancelled) return;
        const annotation = store?.annotationStore?.selected;
        return settle(annotation, () => latest.current.onSkip?.(serialize(annotation), context(annotation)) ?? Promise.resolve());
      },
      onDeleteAnnotation: (_store: EditorStore, annotation: EditorAnnotation) => {
        const annotationId = ofKnownAnnotation(annotation);
        if (cancelled || annotation?.type !== "annotation" || annotationId === null) return;
        latest.current.onDelete?.(annotationId).catch((caught) => latest.current.onError?.(caught));
      },
      ...(editing ? { onSubmitDraft: saveDraft } : {}),
    };

    setLoading(true);
    setError(null);
    loadLabelStudio()
      .then((LabelStudio) => {
        if (cancelled) return;
        const mount = document.createElement("div");
        mount.className = "lo-editor-mount";
        element.replaceChildren(mount);
        instance = new LabelStudio(mount, options);
      })
      .catch((caught: unknown) => {
        if (!cancelled) {
          setError(caught);
          setLoading(false);
        }
      });
    if (editing) window.addEventListener("pagehide", saveOnLeave);

    return () => {
      cancelled = true;
      window.removeEventListener("pagehide", saveOnLeave);
      if (editing) {
        const annotation = selected();
        try {
          flushing = true;
          annotation?.autosave?.flush?.();
        } catch {
          // The editor may already be half torn down; the periodic save has the rest.
        } finally {
          flushing = false;
        }
      }
      try {
        instance?.destroy();
      } catch {
        // An editor that failed to start has nothing to destroy.
      }
      instance = null;
      if (latest.current.resultRef) latest.current.resultRef.current = null;
      element.replaceChildren();
    };
    // The editor is rebuilt only for another task, config or mode; callbacks are read live.
  }, [config, task, mode, user.id]);

  return (
    <div className={`lo-editor lo-editor-${mode}`} aria-label="Labeling editor" role="region" aria-busy={loading}>
      {loading && !error && <LoadingBlock label="Loading the editor…" />}
      <ErrorList error={error} title="The labeling editor could not start" />
      <div ref={root} className="lo-editor-root" />
    </div>
  );
}
