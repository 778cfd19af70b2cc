/**
 * Optional services (ML, cloud storages, webhooks) may not be part of an installation; their
 * endpoints then answer 404 or 501. Their settings say so plainly instead of failing.
 */
import { ApiError } from "../../api/client";
import { EmptyState } from "../../ui";

export function isUnavailable(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 404 || error.status === 501);
}

export function NotAvailable({ feature }: { feature: string }) {
  return (
    <EmptyState title={`${feature} are not available in this installation`}>
      The service that manages them is not running here, so there is nothing to configure yet.
      The rest of the project works without it.
    </EmptyState>
  );
}
