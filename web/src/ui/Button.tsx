/** The app's one button: a native <button> with a visual variant and a busy state. */
import type { ButtonHTMLAttributes } from "react";

import { Spinner } from "./Spinner";

export type ButtonVariant = "primary" | "secondary" | "danger" | "ghost";

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: ButtonVariant;
  size?: "normal" | "small";
  /** Disables the button and shows a spinner while an action runs. */
  busy?: boolean;
}

export function Button({
  variant = "secondary",
  size = "normal",
  busy = false,
  disabled,
  className,
  type = "button",
  children,
  ...rest
}: ButtonProps) {
  const classes = ["btn", `btn-${variant}`, size === "small" ? "btn-small" : "", className ?? ""]
    .filter(Boolean)
    .join(" ");
  return (
    <button
      type={type}
      className={classes}
      disabled={disabled || busy}
      aria-busy={busy || undefined}
      {...rest}
    >
      {busy && <Spinner size="small" label="" />}
      {children}
    </button>
  );
}
