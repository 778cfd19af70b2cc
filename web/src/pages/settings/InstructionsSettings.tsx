/** Instructions shown to annotators before and while they label. */
import { useState } from "react";
import type { FormEvent } from "react";

import { updateProject } from "../../api/projects";
import { useProject } from "../../layout";
import { Button, Checkbox, ErrorList, TextArea, useToast } from "../../ui";

export function InstructionsSettings() {
  const { project, setProject } = useProject();
  const toast = useToast();
  const [text, setText] = useState(project.expert_instruction ?? "");
  const [show, setShow] = useState(project.show_instruction);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const dirty = text !== (project.expert_instruction ?? "") || show !== project.show_instruction;

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const updated = await updateProject(project.id, { expert_instruction: text, show_instruction: show });
      setProject(updated);
      setText(updated.expert_instruction ?? "");
      setShow(updated.show_instruction);
      toast.show("Instructions saved", "success");
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={onSubmit} aria-label="Instructions">
      <div className="card">
        <TextArea
          label="Labeling instructions"
          rows={10}
          value={text}
          onChange={(event) => setText(event.target.value)}
          hint="HTML is allowed. Annotators see this in the labeling screen."
        />
        <Checkbox
          label="Show the instructions before labeling starts"
          checked={show}
          onChange={(event) => setShow(event.target.checked)}
        />
        {text.trim() && (
          <>
            <h3>Preview</h3>
            {/* A sandboxed frame: the HTML renders, but no script in it can run. */}
            <iframe
              title="Instructions preview"
              className="instructions-preview"
              sandbox=""
              srcDoc={`<!doctype html><meta charset="utf-8"><style>body{font-family:system-ui,sans-serif;font-size:14px;margin:8px}</style>${text}`}
              style={{ width: "100%", minHeight: 160 }}
            />
          </>
        )}
      </div>
      <ErrorList error={error} />
      <div className="button-row" style={{ marginTop: 16 }}>
        <Button type="submit" variant="primary" busy={busy} disabled={!dirty}>
          Save
        </Button>
      </div>
    </form>
  );
}
