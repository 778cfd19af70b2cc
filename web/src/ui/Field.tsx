/**
 * Labelled form controls. Every control gets a <label> tied to it by id, its hint and
 * errors tied by aria-describedby, so tests and screen readers find it by its label.
 */
import { useId } from "react";
import type {
  InputHTMLAttributes,
  ReactNode,
  SelectHTMLAttributes,
  TextareaHTMLAttributes,
} from "react";

interface FieldChrome {
  label: ReactNode;
  hint?: ReactNode;
  /** Messages for this field (for example `error.fieldErrors.title`). */
  errors?: string[];
}

function describedBy(id: string, hint: ReactNode, errors?: string[]): string | undefined {
  const parts = [hint ? `${id}-hint` : "", errors && errors.length > 0 ? `${id}-errors` : ""];
  const joined = parts.filter(Boolean).join(" ");
  return joined || undefined;
}

/** Wraps any control: `children` receives the id and the aria props to put on it. */
export function Field({
  label,
  hint,
  errors,
  id: givenId,
  className,
  children,
}: FieldChrome & {
  id?: string;
  className?: string;
  children: (props: { id: string; "aria-describedby"?: string; "aria-invalid"?: boolean }) => ReactNode;
}) {
  const autoId = useId();
  const id = givenId ?? autoId;
  const invalid = !!errors && errors.length > 0;
  return (
    <div className={`field${className ? ` ${className}` : ""}`}>
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      {children({ id, "aria-describedby": describedBy(id, hint, errors), "aria-invalid": invalid || undefined })}
      {hint && (
        <div className="field-hint" id={`${id}-hint`}>
          {hint}
        </div>
      )}
      {invalid && (
        <ul className="field-errors" id={`${id}-errors`}>
          {errors!.map((message) => (
            <li key={message}>{message}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export type TextInputProps = FieldChrome & InputHTMLAttributes<HTMLInputElement>;

export function TextInput({ label, hint, errors, id, className, ...input }: TextInputProps) {
  return (
    <Field label={label} hint={hint} errors={errors} id={id} className={className}>
      {(aria) => <input className="input" type="text" {...aria} {...input} />}
    </Field>
  );
}

export type TextAreaProps = FieldChrome & TextareaHTMLAttributes<HTMLTextAreaElement>;

export function TextArea({ label, hint, errors, id, className, ...textarea }: TextAreaProps) {
  return (
    <Field label={label} hint={hint} errors={errors} id={id} className={className}>
      {(aria) => <textarea className="input" {...aria} {...textarea} />}
    </Field>
  );
}

export interface SelectOption {
  value: string;
  label: string;
}

export type SelectProps = FieldChrome &
  SelectHTMLAttributes<HTMLSelectElement> & { options: SelectOption[] };

export function Select({ label, hint, errors, id, className, options, ...select }: SelectProps) {
  return (
    <Field label={label} hint={hint} errors={errors} id={id} className={className}>
      {(aria) => (
        <select className="input" {...aria} {...select}>
          {options.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export type CheckboxProps = { label: ReactNode; hint?: ReactNode } & Omit<
  InputHTMLAttributes<HTMLInputElement>,
  "type"
>;

/** A checkbox with its label beside it. */
export function Checkbox({ label, hint, id: givenId, className, ...input }: CheckboxProps) {
  const autoId = useId();
  const id = givenId ?? autoId;
  return (
    <div className={`field field-checkbox${className ? ` ${className}` : ""}`}>
      <input id={id} type="checkbox" aria-describedby={hint ? `${id}-hint` : undefined} {...input} />
      <label htmlFor={id}>{label}</label>
      {hint && (
        <div className="field-hint" id={`${id}-hint`}>
          {hint}
        </div>
      )}
    </div>
  );
}
