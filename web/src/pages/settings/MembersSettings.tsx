/**
 * Members and roles: the project's organization members with their roles. Administrators
 * add people with a role up to their own, change the role of members of a lower role (to
 * one up to their own) and remove them: the server's rank rule, which it enforces itself.
 */
import { useCallback, useEffect, useState } from "react";
import type { FormEvent } from "react";

import { ApiError } from "../../api/client";
import {
  addMember,
  canChangeRole,
  changeMemberRole,
  grantableRoles,
  listMemberships,
  outranks,
  removeMember,
  ROLE_LABELS,
} from "../../api/organizations";
import type { Membership, Page, Role } from "../../api/types";
import { useCurrentUser } from "../../auth";
import { useProject } from "../../layout";
import {
  Button,
  ConfirmDialog,
  ErrorList,
  formatDate,
  LoadingBlock,
  Modal,
  Pagination,
  Select,
  TextInput,
  useToast,
  useLoaded,
} from "../../ui";

const PAGE_SIZE = 50;
const ADMIN_ROLES: Role[] = ["owner", "administrator"];

export function MembersSettings() {
  const { project } = useProject();
  const { user } = useCurrentUser();
  const toast = useToast();
  const organizationId = project.organization;
  const isAdmin = !!user.role && ADMIN_ROLES.includes(user.role);
  const [page, setPage] = useState(1);
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<Membership | null>(null);
  const [roleError, setRoleError] = useState<unknown>(null);
  const {
    data,
    error,
    reload: load,
  } = useLoaded<Page<Membership>>(
    useCallback(() => listMemberships(organizationId, page, PAGE_SIZE), [organizationId, page]),
  );

  return (
    <div>
      <div className="button-row" style={{ marginBottom: 12 }}>
        <span className="muted">
          Everyone in {user.active_organization_meta?.title ?? "the organization"} can work on this
          project with their organization role.
        </span>
        <div className="spacer" />
        {isAdmin && (
          <Button variant="primary" onClick={() => setAdding(true)}>
            Add member
          </Button>
        )}
      </div>
      <ErrorList error={error} title="Could not load members" />
      <ErrorList error={roleError} title="Could not change the role" />
      {!data && !error && <LoadingBlock label="Loading members…" />}
      {data && (
        <div className="table-wrap">
          <table className="table" aria-label="Members">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Joined</th>
                {isAdmin && (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {data.results.map((membership) => {
                const member = membership.user;
                const name = [member.first_name, member.last_name].filter(Boolean).join(" ");
                return (
                  <tr key={membership.id}>
                    <td>
                      <span className="avatar" aria-hidden="true" style={{ marginRight: 8 }}>
                        {member.initials}
                      </span>
                      {name || <span className="muted">—</span>}
                      {member.id === user.id && <span className="badge badge-info" style={{ marginLeft: 8 }}>you</span>}
                    </td>
                    <td>{member.email}</td>
                    <td>
                      {canChangeRole(user.role, user.id, membership.role, member.id) ? (
                        <select
                          className="input"
                          aria-label={`Role of ${member.email}`}
                          value={membership.role}
                          onChange={async (event) => {
                            const role = event.target.value as Role;
                            setRoleError(null);
                            try {
                              await changeMemberRole(organizationId, member.id, role);
                              toast.show(`${member.email} is now ${ROLE_LABELS[role]}`, "success");
                            } catch (caught) {
                              setRoleError(caught);
                            }
                            await load();
                          }}
                        >
                          {grantableRoles(user.role).map((value) => (
                            <option key={value} value={value}>
                              {ROLE_LABELS[value]}
                            </option>
                          ))}
                        </select>
                      ) : (
                        <span className="badge">{ROLE_LABELS[membership.role] ?? membership.role}</span>
                      )}
                    </td>
                    <td>{formatDate(member.date_joined)}</td>
                    {isAdmin && (
                      <td style={{ textAlign: "right" }}>
                        {member.id !== user.id && outranks(user.role, membership.role) && (
                          <Button
                            size="small"
                            variant="ghost"
                            aria-label={`Remove ${member.email}`}
                            onClick={() => setRemoving(membership)}
                          >
                            Remove
                          </Button>
                        )}
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {data && <Pagination page={page} pageSize={PAGE_SIZE} count={data.count} onPage={setPage} label="Member pages" />}
      <AddMemberDialog
        open={adding}
        onClose={() => setAdding(false)}
        onAdded={(email) => {
          setAdding(false);
          toast.show(`${email} added`, "success");
          void load();
        }}
      />
      <ConfirmDialog
        open={removing !== null}
        title="Remove member"
        confirmLabel="Remove"
        onClose={() => setRemoving(null)}
        onConfirm={async () => {
          if (!removing) return;
          await removeMember(organizationId, removing.user.id);
          toast.show(`${removing.user.email} removed`, "success");
          setRemoving(null);
          await load();
        }}
      >
        <p>
          {removing?.user.email} loses access to every project of the organization. Their
          annotations stay.
        </p>
      </ConfirmDialog>
    </div>
  );
}

function AddMemberDialog({
  open,
  onClose,
  onAdded,
}: {
  open: boolean;
  onClose: () => void;
  onAdded: (email: string) => void;
}) {
  const [email, setEmail] = useState("");
  const [firstName, setFirstName] = useState("");
  const [lastName, setLastName] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("annotator");
  const { user } = useCurrentUser();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const fieldErrors = error instanceof ApiError ? error.fieldErrors : {};

  useEffect(() => {
    if (open) {
      setEmail("");
      setFirstName("");
      setLastName("");
      setPassword("");
      setRole("annotator");
      setError(null);
    }
  }, [open]);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await addMember({
        email: email.trim(),
        first_name: firstName.trim(),
        last_name: lastName.trim(),
        password: password || undefined,
        role,
      });
      onAdded(email.trim());
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal open={open} title="Add member" onClose={onClose}>
      <form onSubmit={onSubmit} aria-label="Add member">
        <TextInput label="Email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} errors={fieldErrors.email} />
        <div className="form-grid">
          <TextInput label="First name" value={firstName} onChange={(e) => setFirstName(e.target.value)} errors={fieldErrors.first_name} />
          <TextInput label="Last name" value={lastName} onChange={(e) => setLastName(e.target.value)} errors={fieldErrors.last_name} />
        </div>
        <TextInput
          label="Initial password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          errors={fieldErrors.password}
          hint="At least 8 characters. Leave empty to let them sign in with an API token only."
        />
        <Select
          label="Role"
          value={role}
          onChange={(e) => setRole(e.target.value as Role)}
          errors={fieldErrors.role}
          options={grantableRoles(user.role).map((value) => ({
            value,
            label: ROLE_LABELS[value],
          }))}
        />
        <ErrorList error={error instanceof ApiError && Object.keys(fieldErrors).length > 0 ? null : error} />
        <div className="button-row" style={{ justifyContent: "flex-end" }}>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>
            Add member
          </Button>
        </div>
      </form>
    </Modal>
  );
}
