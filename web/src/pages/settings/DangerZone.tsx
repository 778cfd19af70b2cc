/** Irreversible actions: drop every task of the project, or delete the project itself. */
import { useState } from "react";
import { useNavigate } from "react-router-dom";

import { api } from "../../api/client";
import { deleteProject } from "../../api/projects";
import { useProject } from "../../layout";
import { Button, ConfirmDialog, formatCount, useToast } from "../../ui";

export function DangerZone() {
  const { project, reload } = useProject();
  const navigate = useNavigate();
  const toast = useToast();
  const [confirm, setConfirm] = useState<"tasks" | "project" | null>(null);
  const taskCount = project.task_number ?? 0;

  return (
    <div className="card danger-zone">
      <div className="button-row" style={{ justifyContent: "space-between", marginBottom: 16 }}>
        <div>
          <h3>Delete all tasks</h3>
          <p className="muted" style={{ margin: 0 }}>
            Removes the project's {formatCount(taskCount)} tasks with their annotations and
            predictions. The settings stay.
          </p>
        </div>
        <Button variant="danger" onClick={() => setConfirm("tasks")} disabled={taskCount === 0}>
          Delete all tasks
        </Button>
      </div>
      <div className="button-row" style={{ justifyContent: "space-between" }}>
        <div>
          <h3>Delete project</h3>
          <p className="muted" style={{ margin: 0 }}>
            Removes the project, its tasks, annotations, predictions and exports. This cannot be undone.
          </p>
        </div>
        <Button variant="danger" onClick={() => setConfirm("project")}>
          Delete project
        </Button>
      </div>
      <ConfirmDialog
        open={confirm === "tasks"}
        title="Delete all tasks?"
        confirmLabel="Delete all tasks"
        typeToConfirm="delete"
        onClose={() => setConfirm(null)}
        onConfirm={async () => {
          await api<void>(`/api/projects/${project.id}/tasks`, { method: "DELETE" });
          setConfirm(null);
          toast.show("All tasks deleted", "success");
          await reload();
        }}
      >
        <p>
          {formatCount(taskCount)} tasks of “{project.title}” and everything on them will be deleted.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm === "project"}
        title="Delete project?"
        confirmLabel="Delete project"
        typeToConfirm={project.title || "delete"}
        onClose={() => setConfirm(null)}
        onConfirm={async () => {
          await deleteProject(project.id);
          toast.show(`Project “${project.title}” deleted`, "success");
          navigate("/projects", { replace: true });
        }}
      >
        <p>
          “{project.title}” with {formatCount(taskCount)} tasks and{" "}
          {formatCount(project.total_annotations_number)} annotations will be deleted for everyone.
        </p>
      </ConfirmDialog>
    </div>
  );
}
