/**
 * Adding or editing one storage: its type's connection fields, "Check connection" (the
 * server's validate, which changes nothing), and save. The server's 400 is shown under the
 * field it names; what names no field is listed above the buttons.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import type { FormEvent } from "react";

import { ApiError } from "../../api/client";
import { createStorage, STORAGE_TYPE_TITLES, updateStorage, validateStorage } from "../../api/storages";
import type { Storage, StorageDirection, StorageField, StorageType, StorageTypeInfo } from "../../api/storages";
import { Button, Checkbox, ErrorList, Modal, Select, TextArea, TextInput } from "../../ui";
import { createBody, fieldsFor, initialValues, patchBody, validateBody } from "./storageForm";
import type { FormValues } from "./storageForm";

const SAVED_SECRET_HINT = "Saved. Leave blank to keep it.";

export function StorageDialog({
  open,
  direction,
  types,
  projectId,
  editing,
  onClose,
  onSaved,
}: {
  open: boolean;
  direction: StorageDirection;
  types: StorageTypeInfo[];
  projectId: number;
  /** The storage to edit; none to add one. */
  editing: Storage | null;
  onClose: () => void;
  onSaved: (storage: Storage) => void;
}) {
  const firstType = editing?.type ?? types[0]?.name ?? "s3";
  const [type, setType] = useState<StorageType>(firstType);
  const [values, setValues] = useState<FormValues>(() => initialValues(firstType, direction, editing ?? undefined));
  const [busy, setBusy] = useState<"check" | "save" | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [checked, setChecked] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const fieldErrors = error instanceof ApiError ? error.fieldErrors : {};
  const fields = useMemo(() => fieldsFor(type, direction), [type, direction]);
  const noun = direction === "import" ? "source storage" : "target storage";

  useEffect(() => {
    if (open) {
      setType(firstType);
      setValues(initialValues(firstType, direction, editing ?? undefined));
      setError(null);
      setChecked(false);
    }
  }, [open, firstType, direction, editing]);

  // The form scrolls; bring the first field the server named into view.
  useEffect(() => {
    form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [error]);

  async function run(action: "check" | "save") {
    setBusy(action);
    setError(null);
    setChecked(false);
    try {
      if (action === "check") {
        await validateStorage(direction, type, validateBody(type, direction, values, projectId, editing ?? undefined));
        setChecked(true);
      } else if (editing) {
        onSaved(await updateStorage(direction, type, editing.id, patchBody(type, direction, values, editing)));
      } else {
        onSaved(await createStorage(direction, type, createBody(type, direction, values, projectId)));
      }
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(null);
    }
  }

  // Messages naming no field of this form (the connection itself, or `non_field_errors`).
  const named = new Set(["title", "description", ...fields.map((field) => field.name)]);
  const general =
    error instanceof ApiError
      ? Object.keys(error.fieldErrors).length === 0
        ? [error.message]
        : Object.entries(error.fieldErrors)
            .filter(([name]) => !named.has(name))
            .flatMap(([name, reasons]) => reasons.map((reason) => (name === "non_field_errors" ? reason : `${name}: ${reason}`)))
      : error;

  function control(field: StorageField) {
    const value = values[field.name];
    const update = (next: unknown) => setValues({ ...values, [field.name]: next });
    // The server answers a saved credential masked (or, as Label Studio, not at all).
    const hint = editing && field.secret && editing[field.name] ? SAVED_SECRET_HINT : field.hint;
    if (field.kind === "checkbox") {
      return (
        <Checkbox
          key={field.name}
          label={field.label}
          hint={hint}
          checked={Boolean(value)}
          onChange={(event) => update(event.target.checked)}
        />
      );
    }
    if (field.kind === "textarea") {
      return (
        <TextArea
          key={field.name}
          label={field.label}
          hint={hint}
          rows={4}
          value={String(value ?? "")}
          onChange={(event) => update(event.target.value)}
          errors={fieldErrors[field.name]}
        />
      );
    }
    return (
      <TextInput
        key={field.name}
        label={field.label}
        hint={hint}
        type={field.kind}
        required={field.required}
        autoComplete={field.kind === "password" ? "new-password" : "off"}
        value={String(value ?? "")}
        onChange={(event) => update(event.target.value)}
        errors={fieldErrors[field.name]}
      />
    );
  }

  return (
    <Modal open={open} title={editing ? `Edit ${noun}` : `Add ${noun}`} onClose={onClose}>
      <form
        ref={form}
        aria-label="Storage connection"
        onSubmit={(event: FormEvent) => {
          event.preventDefault();
          void run("save");
        }}
      >
        {editing ? (
          <p className="muted" style={{ marginTop: 0 }}>
            {STORAGE_TYPE_TITLES[type] ?? type}
          </p>
        ) : (
          <Select
            label="Storage type"
            value={type}
            onChange={(event) => {
              const next = event.target.value as StorageType;
              setType(next);
              setValues(initialValues(next, direction));
              setError(null);
              setChecked(false);
            }}
            options={types.map((info) => ({ value: info.name, label: info.title }))}
          />
        )}
        <TextInput
          label="Storage title"
          value={String(values.title ?? "")}
          onChange={(event) => setValues({ ...values, title: event.target.value })}
          errors={fieldErrors.title}
        />
        <TextArea
          label="Description"
          rows={2}
          value={String(values.description ?? "")}
          onChange={(event) => setValues({ ...values, description: event.target.value })}
          errors={fieldErrors.description}
        />
        {fields.map(control)}
        <ErrorList error={general} title="The storage is not reachable with these settings" />
        {checked && (
          <div className="notice notice-success" role="status">
            Connection works.
          </div>
        )}
        <div className="button-row" style={{ justifyContent: "flex-end" }}>
          <Button onClick={onClose}>Cancel</Button>
          <Button busy={busy === "check"} disabled={busy !== null} onClick={() => void run("check")}>
            Check connection
          </Button>
          <Button type="submit" variant="primary" busy={busy === "save"} disabled={busy !== null}>
            {editing ? "Save changes" : "Add storage"}
          </Button>
        </div>
      </form>
    </Modal>
  );
}
