/**
 * Labeling interface: the project's config in the editor with its live preview. Saving
 * first asks whether labels already used in annotations would disappear.
 */
import { useState } from "react";

import { ApiError } from "../../api/client";
import { updateProject, validateConfigForProject } from "../../api/projects";
import { useProject } from "../../layout";
import { ConfigEditor, TemplateGallery } from "../../templates";
import type { ValidationState } from "../../templates";
import { Button, ConfirmDialog, ErrorList, Modal, useToast } from "../../ui";

export function LabelingSettings() {
  const { project, setProject } = useProject();
  const toast = useToast();
  const [config, setConfig] = useState(project.label_config ?? "");
  const [validation, setValidation] = useState<ValidationState | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [confirming, setConfirming] = useState(false);
  const [browsing, setBrowsing] = useState(false);

  const dirty = config !== (project.label_config ?? "");
  const serverErrors =
    error instanceof ApiError ? error.fieldErrors.label_config : undefined;

  async function save() {
    setBusy(true);
    setError(null);
    try {
      const updated = await updateProject(project.id, { label_config: config });
      setProject(updated);
      setConfig(updated.label_config ?? "");
      toast.show("Labeling configuration saved", "success");
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  }

  async function onSave() {
    setBusy(true);
    setError(null);
    try {
      const check = await validateConfigForProject(project.id, config);
      if (check.config_essential_data_has_changed && (project.total_annotations_number ?? 0) > 0) {
        setBusy(false);
        setConfirming(true);
        return;
      }
    } catch (caught) {
      setError(caught);
      setBusy(false);
      return;
    }
    await save();
  }

  return (
    <div>
      <div className="button-row" style={{ marginBottom: 12 }}>
        <Button onClick={() => setBrowsing(true)}>Browse templates</Button>
        <div className="spacer" />
        <Button disabled={!dirty || busy} onClick={() => setConfig(project.label_config ?? "")}>
          Discard changes
        </Button>
        <Button
          variant="primary"
          busy={busy}
          disabled={!dirty || validation?.status === "invalid"}
          onClick={() => void onSave()}
        >
          Save
        </Button>
      </div>
      {!project.config_has_control_tags && !dirty && (
        <div className="notice notice-warning" role="note">
          This project has no labeling controls yet. Pick a template or write a configuration, then
          save it.
        </div>
      )}
      <ConfigEditor
        value={config}
        onChange={(next) => {
          setConfig(next);
          setError(null);
        }}
        onValidation={setValidation}
        serverErrors={serverErrors}
      />
      <ErrorList error={serverErrors ? null : error} title="The configuration was not saved" />
      <Modal open={browsing} title="Replace the configuration with a template" onClose={() => setBrowsing(false)} size="wide">
        <TemplateGallery
          selectedId={null}
          onSelect={(template) => {
            setConfig(template.config);
            setBrowsing(false);
          }}
        />
      </Modal>
      <ConfirmDialog
        open={confirming}
        title="Labels in use would change"
        confirmLabel="Save anyway"
        onClose={() => setConfirming(false)}
        onConfirm={save}
      >
        <p>
          This project has annotations that use labels or control tags this configuration removes
          or renames. Those annotations stay as they are, but the editor will not be able to show
          the removed parts.
        </p>
      </ConfirmDialog>
    </div>
  );
}
