/**
 * The review page: the project's review stream, one annotation at a time, shown in the
 * Label Studio editor. The reviewer accepts it, rejects it with a reason (the annotator
 * gets the task back with that reason), or changes its regions and fixes and accepts it
 * (the annotator's original stays in the review's history). The next one follows at once.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { Link } from "react-router-dom";

import { createReview, nextReview, type NextReview } from "../../api/reviews";
import type { ResultItem } from "../../api/tasks";
import { useCurrentUser } from "../../auth";
import { LabelStudioEditor } from "../../editor/LabelStudioEditor";
import { useProject } from "../../layout";
import { Button, EmptyState, ErrorList, LoadingBlock, TextArea, formatDateTime, useToast } from "../../ui";
import "./review.css";

type Screen =
  | { kind: "loading" }
  | { kind: "annotation"; next: NextReview }
  | { kind: "done" }
  | { kind: "failed"; error: unknown };

type Verdict = "accept" | "reject" | "fix";

const VERDICT_MESSAGE: Record<Verdict, string> = {
  accept: "accepted",
  reject: "rejected",
  fix: "fixed and accepted",
};

export default function Review() {
  const { project } = useProject();
  const { user } = useCurrentUser();
  const toast = useToast();
  const [screen, setScreen] = useState<Screen>({ kind: "loading" });
  const [saveError, setSaveError] = useState<unknown>(null);
  const [busy, setBusy] = useState<Verdict | null>(null);
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  const [reviewed, setReviewed] = useState(0);
  const resultRef = useRef<(() => ResultItem[]) | null>(null);

  const load = useCallback(
    async (signal?: AbortSignal) => {
      setScreen({ kind: "loading" });
      setSaveError(null);
      setRejecting(false);
      setReason("");
      try {
        const next = await nextReview(project.id, signal);
        if (signal?.aborted) return;
        setScreen(next ? { kind: "annotation", next } : { kind: "done" });
      } catch (caught) {
        if (!signal?.aborted) setScreen({ kind: "failed", error: caught });
      }
    },
    [project.id],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);

  const next = screen.kind === "annotation" ? screen.next : null;

  const decide = useCallback(
    async (verdict: Verdict) => {
      if (!next) return;
      setSaveError(null);
      setBusy(verdict);
      try {
        const annotation = next.annotation.id;
        if (verdict === "accept") {
          await createReview({ annotation, accepted: true });
        } else if (verdict === "reject") {
          await createReview({ annotation, accepted: false, comment: reason });
        } else {
          const result = resultRef.current?.() ?? next.annotation.result;
          await createReview({ annotation, accepted: true, result });
        }
      } catch (caught) {
        setSaveError(caught);
        return;
      } finally {
        setBusy(null);
      }
      toast.show(`Annotation ${next.annotation.id} ${VERDICT_MESSAGE[verdict]}`, "success");
      setReviewed((count) => count + 1);
      await load();
    },
    [load, next, reason, toast],
  );

  const author = next?.annotation.created_username || (next ? `User ${next.annotation.completed_by}` : "");

  return (
    <main className="page review-page">
      <div className="review-header">
        <h1 className="review-title">
          {next ? `Review annotation ${next.annotation.id} of task ${next.task.id}` : "Review stream"}
        </h1>
        <span className="muted">
          Unreviewed annotations, oldest first
          {reviewed > 0 ? ` · ${reviewed} reviewed this session` : ""}
        </span>
        <Link className="btn btn-small btn-secondary" to={`/projects/${project.id}/data`}>
          Back to data manager
        </Link>
      </div>
      <ErrorList error={saveError} title="The review was not saved" />
      {screen.kind === "loading" && <LoadingBlock label="Loading the next annotation…" />}
      {screen.kind === "failed" && <ErrorList error={screen.error} title="Could not load an annotation to review" />}
      {screen.kind === "done" && (
        <EmptyState title="No more annotations to review">
          Every submitted annotation of this project has a verdict (or another reviewer holds it).
        </EmptyState>
      )}
      {next && (
        <>
          <section className="review-summary" aria-label="Annotation under review">
            <span>
              By <strong>{author.trim()}</strong>, submitted {formatDateTime(next.annotation.created_at)}
            </span>
            {next.history.length > 0 && (
              <details className="review-history" open>
                <summary>Earlier reviews ({next.history.length})</summary>
                <ol>
                  {next.history.map((review) => (
                    <li key={review.id}>
                      {review.accepted ? (review.result ? "Fixed and accepted" : "Accepted") : "Rejected"}
                      {review.comment ? `: ${review.comment}` : ""} ({formatDateTime(review.created_at)})
                    </li>
                  ))}
                </ol>
              </details>
            )}
          </section>
          <div className="review-actions button-row" role="group" aria-label="Verdict">
            <Button variant="primary" busy={busy === "accept"} disabled={busy !== null} onClick={() => void decide("accept")}>
              Accept
            </Button>
            <Button variant="danger" disabled={busy !== null} onClick={() => setRejecting(true)}>
              Reject
            </Button>
            <Button busy={busy === "fix"} disabled={busy !== null} onClick={() => void decide("fix")}>
              Fix &amp; accept
            </Button>
            <span className="muted review-hint">To fix, change the regions in the editor first.</span>
          </div>
          {rejecting && (
            <form
              className="review-reject"
              onSubmit={(event) => {
                event.preventDefault();
                void decide("reject");
              }}
            >
              <TextArea
                label="Reason for rejecting"
                hint="The annotator sees this with the task when it comes back to them."
                value={reason}
                rows={3}
                onChange={(event) => setReason(event.target.value)}
              />
              <div className="button-row">
                <Button type="submit" variant="danger" busy={busy === "reject"} disabled={!reason.trim() || busy !== null}>
                  Reject with this reason
                </Button>
                <Button variant="ghost" onClick={() => setRejecting(false)}>
                  Cancel
                </Button>
              </div>
            </form>
          )}
          <LabelStudioEditor
            key={`${next.annotation.id}-${next.lock_expires_at}`}
            config={project.label_config}
            task={{ id: next.task.id, data: next.task.data, annotations: [next.annotation] }}
            user={user}
            mode="review"
            resultRef={resultRef}
          />
        </>
      )}
    </main>
  );
}
