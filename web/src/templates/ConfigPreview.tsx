/**
 * A live preview of a labeling config: the Label Studio editor rendered on a sample task
 * built from the config's `$variables`, destroyed and rebuilt whenever the config changes.
 */
import { useEffect, useRef, useState } from "react";

import { useOptionalCurrentUser } from "../auth";
import { loadLabelStudio } from "../editor/loadLabelStudio";
import type { EditorObject, LabelStudioInstance } from "../editor/loadLabelStudio";
import { ErrorList, Spinner } from "../ui";
import { parseConfig, sampleTaskData } from "./sampleTask";

export function ConfigPreview({ config }: { config: string }) {
  const host = useRef<HTMLDivElement>(null);
  const current = useOptionalCurrentUser();
  const userId = current?.user.id ?? 1;
  const firstName = current?.user.first_name ?? "";
  const lastName = current?.user.last_name ?? "";
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [sample, setSample] = useState<Record<string, unknown>>({});

  useEffect(() => {
    const container = host.current;
    if (!container) return;
    const parsed = parseConfig(config);
    if (!parsed.document) {
      setError(new Error(parsed.error ?? "The configuration is not well-formed XML."));
      setLoading(false);
      return;
    }
    const data = sampleTaskData(parsed.document);
    setSample(data);
    setError(null);
    setLoading(true);

    // A fresh element per instance: the editor renders with its own React into it.
    const mount = document.createElement("div");
    mount.className = "config-preview-mount";
    container.appendChild(mount);
    let instance: LabelStudioInstance | null = null;
    let cancelled = false;

    loadLabelStudio()
      .then((LabelStudio) => {
        if (cancelled) return;
        instance = new LabelStudio(mount, {
          config,
          interfaces: ["panel", "controls", "side-column"],
          user: { pk: userId, firstName: firstName || "You", lastName },
          task: { id: 1, data, annotations: [], predictions: [] },
          onLabelStudioLoad: (store: EditorObject) => {
            // Start an empty annotation so the preview can be clicked through like a real task.
            const annotation = store.annotationStore.addAnnotation({ userGenerate: true });
            store.annotationStore.selectAnnotation(annotation.id);
          },
        });
        setLoading(false);
      })
      .catch((caught: unknown) => {
        if (!cancelled) {
          setError(caught);
          setLoading(false);
        }
      });

    return () => {
      cancelled = true;
      try {
        instance?.destroy();
      } catch {
        // The editor may already have torn itself down after a config it could not render.
      }
      mount.remove();
    };
  }, [config, userId, firstName, lastName]);

  const sampleKeys = Object.keys(sample);

  return (
    <section className="config-preview" aria-label="Preview">
      <div className="config-preview-header">
        Preview
        {loading && <Spinner size="small" label="Rendering preview…" />}
      </div>
      <ErrorList error={error} title="The preview could not be rendered" />
      {!error && !loading && sampleKeys.length === 0 && (
        <div className="notice" style={{ margin: 8 }}>
          Nothing to show yet: add a data tag that reads a task field, such as{" "}
          <code>{'<Text name="text" value="$text"/>'}</code>, and a control that labels it.
        </div>
      )}
      <div className="config-preview-body" ref={host} data-testid="config-preview" />
      {sampleKeys.length > 0 && (
        <div className="sample-data">
          Sample task data: {sampleKeys.map((key) => `$${key}`).join(", ")}
        </div>
      )}
    </section>
  );
}
