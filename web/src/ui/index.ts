/** The shared UI kit: import from "../ui" (or "../../ui") in pages. */
export { Button } from "./Button";
export type { ButtonProps, ButtonVariant } from "./Button";
export { Checkbox, Field, Select, TextArea, TextInput } from "./Field";
export type { SelectOption } from "./Field";
export { ErrorList, errorMessages } from "./ErrorList";
export { Modal } from "./Modal";
export { ConfirmDialog } from "./ConfirmDialog";
export { Tabs } from "./Tabs";
export type { TabItem } from "./Tabs";
export { LoadingBlock, Spinner } from "./Spinner";
export { EmptyState } from "./EmptyState";
export { ProgressBar } from "./ProgressBar";
export { ToastProvider, useToast } from "./Toasts";
export { Pagination } from "./Pagination";
export { formatCount, formatDate, formatDateTime } from "./format";
export { useDebounced } from "./useDebounced";
export { useLoaded } from "./useLoaded";
export type { Loaded } from "./useLoaded";
