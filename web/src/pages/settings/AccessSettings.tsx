/**
 * Access: which annotators and reviewers see this project. They see only the projects they
 * were admitted to; owners, administrators and managers see every project of the
 * organization and are not listed. Ticking a box admits or removes someone at once.
 */
import { useCallback, useState } from "react";

import { listMemberships, ROLE_LABELS } from "../../api/organizations";
import { addProjectMember, listProjectMembers, removeProjectMember } from "../../api/projects";
import type { Membership, Page, ProjectMember, Role } from "../../api/types";
import { useCurrentUser } from "../../auth";
import { useProject } from "../../layout";
import { Checkbox, ErrorList, LoadingBlock, Pagination, useLoaded, useToast } from "../../ui";

const PAGE_SIZE = 50;
const ADMITTED_ROLES: Role[] = ["annotator", "reviewer"];
const MANAGING_ROLES: Role[] = ["owner", "administrator", "manager"];

export function AccessSettings() {
  const { project } = useProject();
  const { user } = useCurrentUser();
  const toast = useToast();
  const [page, setPage] = useState(1);
  const [busyUser, setBusyUser] = useState<number | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const canManage = !!user.role && MANAGING_ROLES.includes(user.role);
  const people = useLoaded<Page<Membership>>(
    useCallback(() => listMemberships(project.organization, page, PAGE_SIZE), [project.organization, page]),
  );
  const members = useLoaded<ProjectMember[]>(
    useCallback(() => listProjectMembers(project.id), [project.id]),
  );

  if (!canManage) {
    return <p className="muted">Only managers and administrators decide who sees this project.</p>;
  }
  const admitted = new Set((members.data ?? []).map((member) => member.user));
  const candidates = (people.data?.results ?? []).filter((membership) =>
    ADMITTED_ROLES.includes(membership.role),
  );

  async function toggle(membership: Membership, admit: boolean) {
    setBusyUser(membership.user.id);
    setActionError(null);
    try {
      if (admit) {
        await addProjectMember(project.id, membership.user.id);
      } else {
        await removeProjectMember(project.id, membership.user.id);
      }
      toast.show(`${membership.user.email} ${admit ? "can now see" : "no longer sees"} this project`, "success");
      await members.reload();
    } catch (caught) {
      setActionError(caught);
    } finally {
      setBusyUser(null);
    }
  }

  return (
    <div>
      <p className="muted">
        Annotators and reviewers see only the projects they are admitted to. Managers and above see
        every project.
      </p>
      <ErrorList error={people.error ?? members.error ?? actionError} title="Could not change access" />
      {(!people.data || !members.data) && !people.error && !members.error && <LoadingBlock label="Loading people…" />}
      {people.data && members.data && candidates.length === 0 && (
        <p className="muted">This page of the organization has no annotators or reviewers.</p>
      )}
      {people.data && members.data && candidates.length > 0 && (
        <ul className="plain-list" aria-label="Project access">
          {candidates.map((membership) => (
            <li key={membership.user.id}>
              <Checkbox
                label={`${membership.user.email} (${ROLE_LABELS[membership.role] ?? membership.role})`}
                checked={admitted.has(membership.user.id)}
                disabled={busyUser === membership.user.id}
                onChange={(event) => void toggle(membership, event.target.checked)}
              />
            </li>
          ))}
        </ul>
      )}
      {people.data && (
        <Pagination page={page} pageSize={PAGE_SIZE} count={people.data.count} onPage={setPage} label="People pages" />
      )}
    </div>
  );
}
