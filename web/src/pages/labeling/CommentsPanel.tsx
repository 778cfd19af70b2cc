/**
 * The labeling screen's side panel: the task's comments, a box to add one, and
 * resolve / reopen on each. Comments on annotations the user may not see are not listed
 * (the server leaves them out); authors delete their own, managers anyone's.
 */
import { useCallback, useState, type FormEvent } from "react";

import {
  commentAuthor,
  createComment,
  deleteComment,
  listTaskComments,
  setCommentResolved,
} from "../../api/comments";
import type { Comment, CurrentUser } from "../../api/types";
import { Button, ErrorList, TextArea, formatDateTime, useLoaded } from "../../ui";

const MODERATORS = new Set(["owner", "administrator", "manager"]);

function authorId(comment: Comment): number {
  return typeof comment.created_by === "number" ? comment.created_by : comment.created_by.id;
}

export function CommentsPanel({
  taskId,
  user,
  onChanged,
}: {
  taskId: number;
  user: CurrentUser;
  /** After a comment is added, resolved, reopened or deleted (the task's counters moved). */
  onChanged?: () => void;
}) {
  const fetchComments = useCallback(() => listTaskComments(taskId), [taskId]);
  const { data: comments, error: loadError, reload } = useLoaded(fetchComments);
  const [text, setText] = useState("");
  const [busy, setBusy] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);

  const run = useCallback(
    async (key: string, action: () => Promise<unknown>) => {
      setBusy(key);
      setActionError(null);
      try {
        await action();
        await reload();
        onChanged?.();
        return true;
      } catch (caught) {
        setActionError(caught);
        return false;
      } finally {
        setBusy(null);
      }
    },
    [onChanged, reload],
  );

  const onAdd = async (event: FormEvent) => {
    event.preventDefault();
    if (!text.trim()) return;
    if (await run("add", () => createComment({ task: taskId, text: text.trim() }))) setText("");
  };

  const unresolved = comments?.filter((comment) => !comment.is_resolved).length ?? 0;
  const mayModerate = user.role !== null && MODERATORS.has(user.role);

  return (
    <aside className="comments-panel" aria-label="Comments">
      <h2 className="comments-title">
        Comments{" "}
        <span className="muted" data-testid="comment-counts">
          {comments ? `${comments.length} · ${unresolved} unresolved` : ""}
        </span>
      </h2>
      <ErrorList error={loadError} title="Could not load the comments" />
      <ErrorList error={actionError} title="The comment was not saved" />
      <ol className="comments-list">
        {comments?.map((comment) => (
          <li
            key={comment.id}
            className={`comment${comment.is_resolved ? " comment-resolved" : ""}`}
            data-testid="comment"
            data-resolved={comment.is_resolved}
          >
            <div className="comment-meta muted">
              <span>{commentAuthor(comment)}</span>
              <span>{formatDateTime(comment.created_at)}</span>
              {comment.annotation !== null && <span>on annotation {comment.annotation}</span>}
              {comment.is_resolved && <span className="comment-badge">Resolved</span>}
            </div>
            <p className="comment-text">{comment.text}</p>
            <div className="button-row">
              <Button
                size="small"
                busy={busy === `resolve-${comment.id}`}
                onClick={() =>
                  void run(`resolve-${comment.id}`, () =>
                    setCommentResolved(comment.id, !comment.is_resolved),
                  )
                }
              >
                {comment.is_resolved ? "Reopen" : "Resolve"}
              </Button>
              {(authorId(comment) === user.id || mayModerate) && (
                <Button
                  size="small"
                  variant="ghost"
                  busy={busy === `delete-${comment.id}`}
                  onClick={() => void run(`delete-${comment.id}`, () => deleteComment(comment.id))}
                >
                  Delete
                </Button>
              )}
            </div>
          </li>
        ))}
      </ol>
      {comments && comments.length === 0 && <p className="muted">No comments on this task yet.</p>}
      <form className="comments-form" onSubmit={(event) => void onAdd(event)}>
        <TextArea
          label="New comment"
          value={text}
          rows={3}
          maxLength={10000}
          onChange={(event) => setText(event.target.value)}
        />
        <Button type="submit" variant="primary" size="small" busy={busy === "add"} disabled={!text.trim()}>
          Add comment
        </Button>
      </form>
    </aside>
  );
}
