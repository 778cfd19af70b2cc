/**
 * The project's side of the ML loop (Label Studio's project fields): whether the stream
 * pre-labels tasks with predictions, and after how many new annotations each connected
 * model is trained (0: only when someone presses Train).
 */
import { useEffect, useState } from "react";
import type { FormEvent } from "react";

import { ApiError } from "../../api/client";
import { updateProject } from "../../api/projects";
import { useProject } from "../../layout";
import { Button, Checkbox, ErrorList, TextInput, useToast } from "../../ui";

export function TrainingSettings() {
  const { project, setProject } = useProject();
  const toast = useToast();
  const [prelabel, setPrelabel] = useState(project.show_collab_predictions);
  const [every, setEvery] = useState(String(project.min_annotations_to_start_training ?? 0));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const fieldErrors = error instanceof ApiError ? error.fieldErrors : {};

  useEffect(() => {
    setPrelabel(project.show_collab_predictions);
    setEvery(String(project.min_annotations_to_start_training ?? 0));
  }, [project.show_collab_predictions, project.min_annotations_to_start_training]);

  const dirty =
    prelabel !== project.show_collab_predictions ||
    every.trim() !== String(project.min_annotations_to_start_training ?? 0);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const updated = await updateProject(project.id, {
        show_collab_predictions: prelabel,
        min_annotations_to_start_training: Number(every.trim() || "0"),
      });
      setProject(updated);
      toast.show("Training settings saved", "success");
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card" onSubmit={onSubmit} aria-label="Training settings" style={{ margin: "12px 0" }}>
      <Checkbox
        label="Pre-label tasks with predictions"
        hint="The label stream asks the model for a task that has no prediction of its current version."
        checked={prelabel}
        onChange={(e) => setPrelabel(e.target.checked)}
      />
      <TextInput
        label="Train after every N annotations"
        type="number"
        min={0}
        step={1}
        hint="0: train only when someone presses Train."
        value={every}
        onChange={(e) => setEvery(e.target.value)}
        errors={fieldErrors.min_annotations_to_start_training}
      />
      <ErrorList error={error instanceof ApiError && Object.keys(fieldErrors).length > 0 ? null : error} />
      <div className="button-row">
        <Button type="submit" variant="primary" busy={busy} disabled={!dirty}>
          Save training settings
        </Button>
      </div>
    </form>
  );
}
