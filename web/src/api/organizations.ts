/** `/api/organizations`: the caller's organization and its memberships (roles). */
import { api } from "./client";
import type { Membership, Organization, OrganizationBrief, Page, Role } from "./types";

export function listOrganizations(): Promise<OrganizationBrief[]> {
  return api<OrganizationBrief[]>("/api/organizations");
}

export function getOrganization(organizationId: number): Promise<Organization> {
  return api<Organization>(`/api/organizations/${organizationId}`);
}

export function listMemberships(
  organizationId: number,
  page = 1,
  pageSize = 50,
): Promise<Page<Membership>> {
  return api<Page<Membership>>(`/api/organizations/${organizationId}/memberships`, {
    query: { page, page_size: pageSize },
  });
}

export function removeMember(organizationId: number, userId: number): Promise<void> {
  return api<void>(`/api/organizations/${organizationId}/memberships/${userId}`, {
    method: "DELETE",
  });
}

/** Changes a member's role (`PATCH .../memberships/{user}`): the server applies the rank
 * rule, and the member's sessions and tokens are revoked so the new role holds at once. */
export function changeMemberRole(
  organizationId: number,
  userId: number,
  role: Role,
): Promise<Membership> {
  return api<Membership>(`/api/organizations/${organizationId}/memberships/${userId}`, {
    method: "PATCH",
    body: { role },
  });
}

export interface NewMember {
  email: string;
  password?: string;
  first_name?: string;
  last_name?: string;
  role: Role;
}

/** Adds a user to the caller's organization with a role (`POST /api/users`). */
export function addMember(member: NewMember): Promise<unknown> {
  return api("/api/users", { method: "POST", body: member });
}

/** Roles from least to most powerful, as the server ranks them. */
export const ROLES_BY_RANK: Role[] = ["annotator", "reviewer", "manager", "administrator", "owner"];

/** The server's rank rule: one acts on another member only from a strictly higher role. */
export function outranks(role: Role | null | undefined, other: Role): boolean {
  return !!role && ROLES_BY_RANK.indexOf(role) > ROLES_BY_RANK.indexOf(other);
}

/** Whether the caller may change this member's role: an administrator, not oneself, over a
 * member of a lower rank (the server's rule). */
export function canChangeRole(
  callerRole: Role | null | undefined,
  callerId: number,
  memberRole: Role,
  memberId: number,
): boolean {
  const isAdmin = callerRole === "owner" || callerRole === "administrator";
  return isAdmin && callerId !== memberId && outranks(callerRole, memberRole);
}

/** The roles a caller may give: none above their own. */
export function grantableRoles(role: Role | null | undefined): Role[] {
  return role ? ROLES_BY_RANK.filter((candidate) => !outranks(candidate, role)) : [];
}

export const ROLE_LABELS: Record<Role, string> = {
  owner: "Owner",
  administrator: "Administrator",
  manager: "Manager",
  reviewer: "Reviewer",
  annotator: "Annotator",
};
