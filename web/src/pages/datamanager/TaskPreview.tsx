/** The side panel of the data manager: one task in the editor (read only), its data and annotations. */
import { useEffect, useState } from "react";
import { Link } from "react-router-dom";

import { getTask, type Task } from "../../api/tasks";
import { useCurrentUser } from "../../auth";
import { LabelStudioEditor } from "../../editor/LabelStudioEditor";
import { Button, ErrorList, formatDateTime, LoadingBlock } from "../../ui";

function completedBy(annotation: Task["annotations"][number]): string {
  const who = annotation.completed_by;
  if (who && typeof who === "object") return who.email || `user ${who.id}`;
  return who ? `user ${who}` : "unknown";
}

export function TaskPreview({
  projectId,
  taskId,
  labelConfig,
  onClose,
}: {
  projectId: number;
  taskId: number;
  labelConfig: string;
  onClose: () => void;
}) {
  const { user } = useCurrentUser();
  const [task, setTask] = useState<Task | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const controller = new AbortController();
    setTask(null);
    setError(null);
    getTask(taskId, controller.signal)
      .then(setTask)
      .catch((caught: unknown) => {
        if (!controller.signal.aborted) setError(caught);
      });
    return () => controller.abort();
  }, [taskId]);

  return (
    <aside className="dm-preview" aria-label="Task preview">
      <header className="dm-preview-header">
        <h2>Task {taskId}</h2>
        <Link className="btn btn-primary btn-small" to={`/projects/${projectId}/label?task=${taskId}`}>
          Label this task
        </Link>
        <Button size="small" variant="ghost" aria-label="Close preview" onClick={onClose}>
          ×
        </Button>
      </header>
      <ErrorList error={error} title="Could not load the task" />
      {!task && !error && <LoadingBlock label="Loading task…" />}
      {task && (
        <>
          <LabelStudioEditor
            config={labelConfig}
            task={task}
            user={user}
            mode="preview"
          />
          <h3 className="section-title">Data</h3>
          <dl className="dm-preview-data">
            {Object.entries(task.data).map(([key, value]) => (
              <div key={key}>
                <dt>{key}</dt>
                <dd>{typeof value === "string" ? value : JSON.stringify(value)}</dd>
              </div>
            ))}
          </dl>
          <h3 className="section-title">
            Annotations ({task.annotations.filter((a) => !a.was_cancelled).length})
          </h3>
          {task.annotations.length === 0 ? (
            <p className="muted">Not annotated yet.</p>
          ) : (
            <ul className="dm-preview-annotations">
              {task.annotations.map((annotation) => (
                <li key={annotation.id}>
                  <strong>#{annotation.id}</strong> by {completedBy(annotation)},{" "}
                  {formatDateTime(annotation.created_at)}
                  {annotation.was_cancelled ? " — skipped" : ` — ${annotation.result.length} result(s)`}
                </li>
              ))}
            </ul>
          )}
          {task.predictions.length > 0 && (
            <>
              <h3 className="section-title">Predictions ({task.predictions.length})</h3>
              <ul className="dm-preview-annotations">
                {task.predictions.map((prediction) => (
                  <li key={prediction.id}>
                    <strong>#{prediction.id}</strong> {prediction.model_version || "no model version"}
                    {prediction.score !== null ? `, score ${prediction.score}` : ""}
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </aside>
  );
}
