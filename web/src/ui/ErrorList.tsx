/** Shows what went wrong: an `ApiError`'s field messages, or any other error's message. */
import { ApiError } from "../api/client";

export function errorMessages(error: unknown): string[] {
  if (!error) return [];
  if (error instanceof ApiError) return error.messages();
  if (error instanceof Error) return [error.message];
  if (Array.isArray(error)) return error.map(String);
  return [String(error)];
}

export function ErrorList({ error, title }: { error: unknown; title?: string }) {
  const messages = errorMessages(error);
  if (messages.length === 0) return null;
  return (
    <div className="error-list" role="alert">
      {title && <strong className="error-list-title">{title}</strong>}
      <ul>
        {messages.map((message, index) => (
          <li key={`${index}-${message}`}>{message}</li>
        ))}
      </ul>
    </div>
  );
}
