/**
 * A prediction job's progress, polled from `/api/ml/{backend}/jobs` until it finishes: the
 * data manager shows it after "Retrieve predictions", the ML page for each running job.
 */
import { useEffect, useRef, useState } from "react";

import { isJobFinished, listPredictionJobs } from "../api/ml";
import type { PredictionJob } from "../api/ml";
import { Button, errorText, ProgressBar } from "../ui";

/** How often a running job is asked about (ms). */
export const JOB_POLL_MS = 1000;

/** The job as last read, polled every `JOB_POLL_MS` until it is finished. */
export function usePredictionJob(
  backendId: number,
  jobId: number,
  onFinished?: (job: PredictionJob) => void,
): { job: PredictionJob | null; error: unknown } {
  const [job, setJob] = useState<PredictionJob | null>(null);
  const [error, setError] = useState<unknown>(null);
  const finished = useRef(onFinished);
  finished.current = onFinished;

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const jobs = await listPredictionJobs(backendId, controller.signal);
        const found = jobs.find((candidate) => candidate.id === jobId) ?? null;
        setJob(found);
        setError(null);
        if (found && isJobFinished(found)) {
          finished.current?.(found);
          return;
        }
      } catch (caught) {
        if (controller.signal.aborted) return;
        setError(caught);
      }
      timer = setTimeout(() => void poll(), JOB_POLL_MS);
    };
    void poll();
    return () => {
      controller.abort();
      if (timer) clearTimeout(timer);
    };
  }, [backendId, jobId]);

  return { job, error };
}

const STATUS_TEXT: Record<string, string> = {
  queued: "Queued",
  running: "Running",
  succeeded: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

export function jobSummary(job: PredictionJob): string {
  const parts = [`${job.predicted.toLocaleString()} predicted`];
  if (job.skipped) parts.push(`${job.skipped.toLocaleString()} already had one`);
  if (job.failed) parts.push(`${job.failed.toLocaleString()} failed`);
  return parts.join(" · ");
}

/** One job's bar and counts (role=status, so tests and screen readers can follow it). */
export function PredictionJobStatus({ job }: { job: PredictionJob }) {
  const total = job.total ?? 0;
  return (
    <div className="prediction-job" role="status" aria-label={`Prediction job ${job.id}`}>
      <div className="button-row">
        <span className={`badge ${job.status === "failed" ? "badge-danger" : job.status === "succeeded" ? "badge-success" : "badge-info"}`}>
          {STATUS_TEXT[job.status] ?? job.status}
        </span>
        <span>
          {job.total === null
            ? "Counting tasks…"
            : `${job.progress.toLocaleString()} of ${total.toLocaleString()} tasks`}
        </span>
        <span className="muted">{jobSummary(job)}</span>
      </div>
      <ProgressBar done={job.progress} total={total} label={`Prediction job ${job.id} progress`} />
      {job.error && <div className="field-errors">{job.error}</div>}
    </div>
  );
}

/** The data manager's panel for the job its "Retrieve predictions" queued. */
export function PredictionJobProgress({
  backendId,
  jobId,
  onFinished,
  onDismiss,
}: {
  backendId: number;
  jobId: number;
  onFinished: (job: PredictionJob) => void;
  onDismiss: () => void;
}) {
  const { job, error } = usePredictionJob(backendId, jobId, onFinished);
  return (
    <section className="card prediction-progress" aria-label="Retrieving predictions">
      <div className="button-row">
        <strong>Retrieving predictions</strong>
        <div className="spacer" />
        <Button size="small" variant="ghost" onClick={onDismiss}>
          {job && isJobFinished(job) ? "Close" : "Hide"}
        </Button>
      </div>
      {job ? <PredictionJobStatus job={job} /> : !error && <span className="muted">Waiting for the job…</span>}
      {error !== null && <div className="field-errors">Could not read the job's progress: {errorText(error)}</div>}
    </section>
  );
}
