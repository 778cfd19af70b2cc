/**
 * Machine learning: the model servers connected to the project (Label Studio's ML backend
 * protocol) with their state, connecting, editing and removing them, training, a test
 * prediction, and the prediction jobs with their progress.
 */
import { useCallback, useEffect, useState } from "react";

import { runAction } from "../../api/dm";
import {
  deleteMlBackend,
  isJobFinished,
  listMlBackends,
  listMlVersions,
  listPredictionJobs,
  listTrainJobs,
  ML_STATE_LABELS,
  queuedJobOf,
  testMlPrediction,
  trainMlBackend,
} from "../../api/ml";
import type { MlBackend, PredictionJob, QueuedJob, TrainJob } from "../../api/ml";
import { useProject } from "../../layout";
import { PredictionJobProgress, PredictionJobStatus } from "../../ml/PredictionJobProgress";
import {
  Button,
  ConfirmDialog,
  EmptyState,
  ErrorList,
  errorText,
  formatDateTime,
  ListTable,
  LoadingBlock,
  Modal,
  useLoaded,
  useToast,
} from "../../ui";
import { MlBackendDialog } from "./MlBackendDialog";
import { TrainingSettings } from "./TrainingSettings";
import { isUnavailable, NotAvailable } from "./Unavailable";

const STATE_BADGE: Record<string, string> = {
  CO: "badge-success",
  DI: "",
  ER: "badge-danger",
  TR: "badge-info",
  PR: "badge-info",
};

/** While something runs the page asks often; otherwise it still follows the backends' state. */
const BUSY_REFRESH_MS = 2000;
const IDLE_REFRESH_MS = 15000;

interface MlOverview {
  backends: MlBackend[];
  jobs: Record<number, PredictionJob[]>;
  trainJobs: Record<number, TrainJob[]>;
}

async function loadOverview(projectId: number): Promise<MlOverview> {
  const backends = await listMlBackends(projectId);
  const [predictionLists, trainLists] = await Promise.all([
    Promise.all(backends.map((backend) => listPredictionJobs(backend.id).catch(() => [] as PredictionJob[]))),
    Promise.all(backends.map((backend) => listTrainJobs(backend.id).catch(() => [] as TrainJob[]))),
  ]);
  const jobs: Record<number, PredictionJob[]> = {};
  const trainJobs: Record<number, TrainJob[]> = {};
  backends.forEach((backend, index) => {
    jobs[backend.id] = predictionLists[index].slice(0, 5);
    trainJobs[backend.id] = trainLists[index].slice(0, 3);
  });
  return { backends, jobs, trainJobs };
}

function isBusy(overview: MlOverview | null): boolean {
  if (!overview) return false;
  const running = (jobs: { status: string }[]) => jobs.some((job) => !isJobFinished(job));
  return (
    overview.backends.some((backend) => backend.state === "TR" || backend.state === "PR") ||
    Object.values(overview.jobs).some(running) ||
    Object.values(overview.trainJobs).some(running)
  );
}

const TRAIN_STATUS_BADGE: Record<string, string> = {
  queued: "badge-info",
  running: "badge-info",
  succeeded: "badge-success",
  failed: "badge-danger",
};

/** A backend's latest training runs: what started each, its state, and the model's answer. */
function TrainJobs({ backend, jobs }: { backend: MlBackend; jobs: TrainJob[] }) {
  const name = backend.title || `Model ${backend.id}`;
  return (
    <section aria-label={`Training of ${name}`}>
      <h3 className="section-title">Training · {name}</h3>
      <ul className="plain-list">
        {jobs.map((job) => (
          <li key={job.id} aria-label={`Training run ${job.id}`}>
            <span className={`badge ${TRAIN_STATUS_BADGE[job.status] ?? ""}`}>{job.status}</span>{" "}
            <span className="muted">
              #{job.id} · {job.action === "START_TRAINING" ? "started by hand" : `after ${job.action}`} ·{" "}
              {formatDateTime(job.created_at)}
            </span>
            {job.error && <div className="field-errors">{job.error}</div>}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function MlSettings() {
  const { project } = useProject();
  const toast = useToast();
  const [editing, setEditing] = useState<MlBackend | "new" | null>(null);
  const [removing, setRemoving] = useState<MlBackend | null>(null);
  const [testAnswer, setTestAnswer] = useState<{ backend: MlBackend; answer: unknown } | null>(null);
  const [versions, setVersions] = useState<{ backend: MlBackend; versions: string[] } | null>(null);
  const [queued, setQueued] = useState<QueuedJob | null>(null);
  const [busyAction, setBusyAction] = useState<string | null>(null);
  const {
    data: overview,
    error,
    reload: load,
  } = useLoaded<MlOverview>(useCallback(() => loadOverview(project.id), [project.id]));

  const busy = isBusy(overview);
  useEffect(() => {
    const timer = setInterval(() => void load(), busy ? BUSY_REFRESH_MS : IDLE_REFRESH_MS);
    return () => clearInterval(timer);
  }, [busy, load]);

  if (isUnavailable(error)) return <NotAvailable feature="ML backends" />;
  const backends = overview?.backends ?? null;

  async function act(key: string, work: () => Promise<void>) {
    setBusyAction(key);
    try {
      await work();
    } catch (caught) {
      toast.show(errorText(caught), "error");
    } finally {
      setBusyAction(null);
    }
  }

  const predictAll = () =>
    act("predict-all", async () => {
      const answer = await runAction(project.id, "retrieve_tasks_predictions", { all: true }, {});
      toast.show(answer.detail ?? "Retrieving predictions", "success");
      const job = queuedJobOf(answer);
      if (job) setQueued(job);
      await load();
    });

  return (
    <div>
      <p className="muted">
        A model server (Label Studio's ML backend protocol) pre-labels tasks and can train on
        submitted annotations.
      </p>
      <div className="button-row" style={{ marginBottom: 12 }}>
        <div className="spacer" />
        {backends && backends.length > 0 && (
          <Button onClick={predictAll} busy={busyAction === "predict-all"}>
            Retrieve predictions for all tasks
          </Button>
        )}
        <Button variant="primary" onClick={() => setEditing("new")} disabled={!!error && !overview}>
          Connect model
        </Button>
      </div>
      <ErrorList error={error} title="Could not load ML backends" />
      {queued && (
        <PredictionJobProgress
          key={queued.jobId}
          backendId={queued.backendId}
          jobId={queued.jobId}
          onFinished={() => void load()}
          onDismiss={() => setQueued(null)}
        />
      )}
      {!backends && !error && <LoadingBlock label="Loading ML backends…" />}
      {backends && backends.length === 0 && (
        <EmptyState title="No model connected">Connect a model server to get predictions as pre-labels.</EmptyState>
      )}
      {backends && backends.length > 0 && (
        <ListTable label="ML backends" columns={["Name", "URL", "State", "Model version", "Updated"]}>
          {backends.map((backend) => {
            const name = backend.title || `Model ${backend.id}`;
            return (
              <tr key={backend.id}>
                <td>
                  {name}
                  {backend.is_interactive && <span className="badge badge-info" style={{ marginLeft: 6 }}>interactive</span>}
                  {backend.auth_method === "BASIC_AUTH" && <span className="badge" style={{ marginLeft: 6 }}>basic auth</span>}
                  {backend.description && <div className="muted">{backend.description}</div>}
                </td>
                <td>
                  <code>{backend.url}</code>
                </td>
                <td>
                  <span className={`badge ${STATE_BADGE[backend.state] ?? ""}`} aria-label={`State of ${name}`}>
                    {backend.readable_state || ML_STATE_LABELS[backend.state] || backend.state}
                  </span>
                  {backend.error_message && (
                    <details>
                      <summary className="muted">Error</summary>
                      <pre style={{ whiteSpace: "pre-wrap" }}>{backend.error_message}</pre>
                    </details>
                  )}
                </td>
                <td>{backend.model_version || <span className="muted">—</span>}</td>
                <td>{formatDateTime(backend.updated_at)}</td>
                <td style={{ textAlign: "right", whiteSpace: "nowrap" }}>
                  <Button size="small" aria-label={`Edit ${name}`} onClick={() => setEditing(backend)}>
                    Edit
                  </Button>{" "}
                  <Button
                    size="small"
                    aria-label={`Train ${name}`}
                    busy={busyAction === `train-${backend.id}`}
                    onClick={() =>
                      act(`train-${backend.id}`, async () => {
                        await trainMlBackend(backend.id);
                        toast.show("Training queued", "success");
                        await load();
                      })
                    }
                  >
                    Train
                  </Button>{" "}
                  <Button
                    size="small"
                    aria-label={`Test ${name}`}
                    busy={busyAction === `test-${backend.id}`}
                    onClick={() =>
                      act(`test-${backend.id}`, async () => {
                        setTestAnswer({ backend, answer: await testMlPrediction(backend.id) });
                      })
                    }
                  >
                    Test
                  </Button>{" "}
                  <Button
                    size="small"
                    aria-label={`Versions of ${name}`}
                    busy={busyAction === `versions-${backend.id}`}
                    onClick={() =>
                      act(`versions-${backend.id}`, async () => {
                        const answer = await listMlVersions(backend.id);
                        setVersions({ backend, versions: answer.versions.map(String) });
                      })
                    }
                  >
                    Versions
                  </Button>{" "}
                  <Button size="small" variant="ghost" aria-label={`Remove ${name}`} onClick={() => setRemoving(backend)}>
                    Remove
                  </Button>
                </td>
              </tr>
            );
          })}
        </ListTable>
      )}
      {backends && backends.length > 0 && <TrainingSettings />}
      {backends &&
        backends.map((backend) => {
          const runs = overview?.trainJobs[backend.id] ?? [];
          return runs.length > 0 ? <TrainJobs key={backend.id} backend={backend} jobs={runs} /> : null;
        })}
      {backends &&
        backends.map((backend) => {
          const jobs = overview?.jobs[backend.id] ?? [];
          if (jobs.length === 0) return null;
          return (
            <section key={backend.id} aria-label={`Prediction jobs of ${backend.title || `Model ${backend.id}`}`}>
              <h3 className="section-title">Prediction jobs · {backend.title || `Model ${backend.id}`}</h3>
              {jobs.map((job) => (
                <div key={job.id}>
                  <span className="muted">
                    #{job.id} · {formatDateTime(job.created_at)}
                    {job.model_version ? ` · ${job.model_version}` : ""}
                  </span>
                  <PredictionJobStatus job={job} />
                </div>
              ))}
            </section>
          );
        })}
      <MlBackendDialog
        open={editing !== null}
        projectId={project.id}
        backend={editing === "new" ? null : editing}
        onClose={() => setEditing(null)}
        onSaved={(created) => {
          setEditing(null);
          toast.show(created ? "Model connected" : "Model saved", "success");
          void load();
        }}
      />
      <Modal
        open={testAnswer !== null}
        title={`Test prediction · ${testAnswer?.backend.title ?? ""}`}
        onClose={() => setTestAnswer(null)}
        size="wide"
      >
        <pre aria-label="Test prediction answer" style={{ whiteSpace: "pre-wrap", maxHeight: 400, overflow: "auto" }}>
          {JSON.stringify(testAnswer?.answer ?? null, null, 2)}
        </pre>
      </Modal>
      <Modal
        open={versions !== null}
        title={`Model versions · ${versions?.backend.title ?? ""}`}
        onClose={() => setVersions(null)}
      >
        {versions && versions.versions.length === 0 && <p className="muted">The model server names no versions.</p>}
        <ul aria-label="Model versions">
          {versions?.versions.map((version) => (
            <li key={version}>
              <code>{version}</code>
              {version === versions.backend.model_version && <span className="badge badge-success" style={{ marginLeft: 6 }}>current</span>}
            </li>
          ))}
        </ul>
      </Modal>
      <ConfirmDialog
        open={removing !== null}
        title="Disconnect model"
        confirmLabel="Disconnect"
        onClose={() => setRemoving(null)}
        onConfirm={async () => {
          if (!removing) return;
          await deleteMlBackend(removing.id);
          setRemoving(null);
          await load();
        }}
      >
        <p>Predictions already made stay on their tasks.</p>
      </ConfirmDialog>
    </div>
  );
}
