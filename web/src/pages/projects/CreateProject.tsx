/**
 * `/projects/new`: name the project, pick a labeling template and adjust its config with a
 * live preview, then create it and continue to the import page.
 */
import { useState } from "react";
import type { FormEvent } from "react";
import { Link, useNavigate } from "react-router-dom";

import { ApiError } from "../../api/client";
import { createProject } from "../../api/projects";
import type { ProjectInput } from "../../api/types";
import { ConfigEditor, TemplateGallery } from "../../templates";
import type { LabelingTemplate, ValidationState } from "../../templates";
import { Button, ErrorList, Tabs, TextArea, TextInput, useToast } from "../../ui";

type Step = "name" | "labeling";

const CONFIG_FIELD = "label_config";

export default function CreateProject() {
  const navigate = useNavigate();
  const toast = useToast();
  const [step, setStep] = useState<Step>("name");
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [template, setTemplate] = useState<LabelingTemplate | null>(null);
  const [browsing, setBrowsing] = useState(true);
  const [config, setConfig] = useState("");
  const [validation, setValidation] = useState<ValidationState | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const fieldErrors = error instanceof ApiError ? error.fieldErrors : {};
  const otherErrors =
    error instanceof ApiError
      ? Object.entries(fieldErrors)
          .filter(([field]) => field !== "title" && field !== "description" && field !== CONFIG_FIELD)
          .flatMap(([field, reasons]) => reasons.map((reason) => `${field}: ${reason}`))
      : error;
  const showOther =
    error instanceof ApiError && Object.keys(fieldErrors).length === 0 ? [error.message] : otherErrors;

  function pickTemplate(picked: LabelingTemplate) {
    setTemplate(picked);
    setConfig(picked.config);
    setBrowsing(false);
    setStep("labeling");
  }

  async function onSubmit(event?: FormEvent) {
    event?.preventDefault();
    setBusy(true);
    setError(null);
    const fields: ProjectInput = { title: title.trim(), description: description.trim() };
    if (config.trim()) fields.label_config = config;
    try {
      const project = await createProject(fields);
      toast.show(`Project “${project.title}” created`, "success");
      navigate(`/projects/${project.id}/import`);
    } catch (caught) {
      setError(caught);
      setBusy(false);
      if (caught instanceof ApiError) {
        if (caught.fieldErrors.title || caught.fieldErrors.description) setStep("name");
        else if (caught.fieldErrors[CONFIG_FIELD]) setStep("labeling");
      }
    }
  }

  const configBlocked = validation?.status === "invalid" && !browsing && config.trim() !== "";

  return (
    <main className="page">
      <form onSubmit={onSubmit} aria-label="Create project">
        <div className="page-header">
          <h1>Create project</h1>
          <div className="spacer" />
          <Link to="/projects" className="btn">
            Cancel
          </Link>
          <Button
            type="submit"
            variant="primary"
            busy={busy}
            disabled={configBlocked}
            title={configBlocked ? "Fix the labeling configuration first" : undefined}
          >
            Save
          </Button>
        </div>
        <div className="wizard-steps">
          <Tabs
            label="Project setup steps"
            tabs={[
              { id: "name", label: "Project details" },
              { id: "labeling", label: template ? `Labeling setup · ${template.title}` : "Labeling setup" },
            ]}
            active={step}
            onChange={(id) => setStep(id as Step)}
          />
        </div>
        <ErrorList error={showOther} title="The project was not created" />

        <div role="tabpanel" aria-labelledby="tab-name" hidden={step !== "name"} className="page-narrow">
          <TextInput
            label="Project name"
            name="title"
            value={title}
            maxLength={50}
            placeholder="New project"
            onChange={(event) => setTitle(event.target.value)}
            errors={fieldErrors.title}
            hint="3 to 50 characters."
            autoFocus
          />
          <TextArea
            label="Description"
            name="description"
            rows={4}
            value={description}
            placeholder="What is this project about?"
            onChange={(event) => setDescription(event.target.value)}
            errors={fieldErrors.description}
          />
          <div className="button-row">
            <Button variant="primary" onClick={() => setStep("labeling")}>
              Next: labeling setup
            </Button>
          </div>
        </div>

        <div role="tabpanel" aria-labelledby="tab-labeling" hidden={step !== "labeling"}>
          {browsing || !template ? (
            <>
              <p className="muted">
                Pick a template to start from; you can edit its configuration on the next screen.
              </p>
              <TemplateGallery selectedId={template?.id ?? null} onSelect={pickTemplate} />
              {template && (
                <div className="button-row" style={{ marginTop: 12 }}>
                  <Button onClick={() => setBrowsing(false)}>Back to the {template.title} config</Button>
                </div>
              )}
            </>
          ) : (
            <>
              <div className="section-title">
                <h2>{template.title}</h2>
                <Button size="small" onClick={() => setBrowsing(true)}>
                  Browse templates
                </Button>
              </div>
              <ConfigEditor
                value={config}
                onChange={(next) => {
                  setConfig(next);
                  if (fieldErrors[CONFIG_FIELD]) setError(null);
                }}
                onValidation={setValidation}
                serverErrors={fieldErrors[CONFIG_FIELD]}
              />
            </>
          )}
        </div>
      </form>
    </main>
  );
}
