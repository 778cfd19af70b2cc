/**
 * The labeling-config editor: XML source with line numbers, the server's validator run as
 * you type (debounced) with its errors inline, and a live preview of the last valid config.
 */
import { useEffect, useId, useMemo, useRef, useState } from "react";

import { ApiError } from "../api/client";
import { validateConfig } from "../api/projects";
import { useDebounced } from "../ui";
import { ConfigPreview } from "./ConfigPreview";
import { parseConfig } from "./sampleTask";

export type ValidationState =
  | { status: "checking" }
  | { status: "valid" }
  | { status: "invalid"; messages: string[] }
  /** The validator could not be reached; the server will check again on save. */
  | { status: "unknown"; messages: string[] };

export interface ConfigEditorProps {
  value: string;
  onChange: (value: string) => void;
  label?: string;
  /** Errors from a failed save, shown with the validator's. */
  serverErrors?: string[];
  onValidation?: (state: ValidationState) => void;
}

function validationMessages(error: unknown): string[] {
  if (error instanceof ApiError) {
    const fromField = error.fieldErrors.label_config;
    return fromField && fromField.length > 0 ? fromField : error.messages();
  }
  return [error instanceof Error ? error.message : String(error)];
}

export function ConfigEditor({
  value,
  onChange,
  label = "Labeling configuration",
  serverErrors,
  onValidation,
}: ConfigEditorProps) {
  const id = useId();
  const debounced = useDebounced(value, 500);
  const [validation, setValidation] = useState<ValidationState>({ status: "checking" });
  const [previewConfig, setPreviewConfig] = useState<string | null>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const reportValidation = useRef(onValidation);
  reportValidation.current = onValidation;

  useEffect(() => {
    if (value !== debounced) {
      setValidation({ status: "checking" });
      reportValidation.current?.({ status: "checking" });
    }
  }, [value, debounced]);

  useEffect(() => {
    const controller = new AbortController();
    const report = (state: ValidationState) => {
      setValidation(state);
      reportValidation.current?.(state);
    };
    const parsed = parseConfig(debounced);
    if (!parsed.document) {
      report({ status: "invalid", messages: [parsed.error ?? "The configuration is not well-formed XML."] });
      return;
    }
    report({ status: "checking" });
    validateConfig(debounced, controller.signal)
      .then(() => {
        report({ status: "valid" });
        setPreviewConfig(debounced);
      })
      .catch((caught: unknown) => {
        if (controller.signal.aborted) return;
        if (caught instanceof ApiError && caught.status === 400) {
          report({ status: "invalid", messages: validationMessages(caught) });
        } else {
          report({ status: "unknown", messages: validationMessages(caught) });
          setPreviewConfig(debounced);
        }
      });
    return () => controller.abort();
  }, [debounced]);

  const lineCount = useMemo(() => value.split("\n").length, [value]);
  const lineNumbers = useMemo(
    () => Array.from({ length: lineCount }, (_, index) => index + 1).join("\n"),
    [lineCount],
  );

  const messages = [
    ...(validation.status === "invalid" ? validation.messages : []),
    ...(serverErrors ?? []),
  ];
  const invalid = messages.length > 0;

  return (
    <div className="config-editor">
      <div className="config-editor-source">
        <label className="field-label" htmlFor={id}>
          {label}
        </label>
        <div className="code-editor" data-invalid={invalid || undefined}>
          <div className="code-gutter" ref={gutter} aria-hidden="true">
            {lineNumbers}
          </div>
          <textarea
            id={id}
            className="code-text"
            spellCheck={false}
            autoCapitalize="off"
            autoComplete="off"
            wrap="off"
            value={value}
            aria-invalid={invalid || undefined}
            aria-describedby={`${id}-status`}
            onChange={(event) => onChange(event.target.value)}
            onScroll={(event) => {
              if (gutter.current) gutter.current.scrollTop = event.currentTarget.scrollTop;
            }}
            onKeyDown={(event) => {
              if (event.key !== "Tab" || event.shiftKey) return;
              event.preventDefault();
              const area = event.currentTarget;
              const { selectionStart, selectionEnd } = area;
              const next = `${value.slice(0, selectionStart)}  ${value.slice(selectionEnd)}`;
              onChange(next);
              requestAnimationFrame(() => area.setSelectionRange(selectionStart + 2, selectionStart + 2));
            }}
          />
        </div>
        <div id={`${id}-status`} className="config-status" aria-live="polite">
          {validation.status === "checking" && <span className="badge">Checking…</span>}
          {validation.status === "valid" && !invalid && <span className="badge badge-success">Valid configuration</span>}
          {invalid && <span className="badge badge-danger">Invalid configuration</span>}
          {validation.status === "unknown" && (
            <span className="badge badge-warning">Not checked: {validation.messages.join("; ")}</span>
          )}
        </div>
        {invalid && (
          <div className="error-list" role="alert" aria-label="Configuration errors">
            <ul>
              {messages.map((message, index) => (
                <li key={`${index}-${message}`}>{message}</li>
              ))}
            </ul>
          </div>
        )}
      </div>
      {previewConfig !== null ? (
        <ConfigPreview config={previewConfig} />
      ) : (
        <section className="config-preview" aria-label="Preview">
          <div className="config-preview-header">Preview</div>
          <div className="config-preview-body muted">The preview appears once the configuration is valid.</div>
        </section>
      )}
    </div>
  );
}
