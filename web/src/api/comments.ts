/**
 * Comments on a task or on one of its annotations (Label Studio Enterprise's
 * `/api/comments/`): the labeling screen's side panel lists, adds and resolves them.
 */
import { api } from "./client";
import type { Comment } from "./types";

export interface CommentBody {
  text: string;
  task?: number;
  annotation?: number;
}

/** The task's comments the caller may see, oldest first. */
export function listTaskComments(taskId: number, signal?: AbortSignal): Promise<Comment[]> {
  return api<Comment[]>("/api/comments/", {
    query: { task: taskId, expand_created_by: true },
    signal,
  });
}

export function createComment(body: CommentBody): Promise<Comment> {
  return api<Comment>("/api/comments/", {
    method: "POST",
    query: { expand_created_by: true },
    body,
  });
}

export function setCommentResolved(commentId: number, isResolved: boolean): Promise<Comment> {
  return api<Comment>(`/api/comments/${commentId}/`, {
    method: "PATCH",
    query: { expand_created_by: true },
    body: { is_resolved: isResolved },
  });
}

export function deleteComment(commentId: number): Promise<void> {
  return api<void>(`/api/comments/${commentId}/`, { method: "DELETE" });
}

/** Who wrote it, for the panel: the expanded author's name or email, else their id. */
export function commentAuthor(comment: Comment): string {
  const author = comment.created_by;
  if (typeof author === "number") return `User ${author}`;
  const name = [author.first_name, author.last_name].filter(Boolean).join(" ");
  return name || author.email || `User ${author.id}`;
}
