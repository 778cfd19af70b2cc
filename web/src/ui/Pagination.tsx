/** Previous / next paging for Label Studio's page envelopes (`count`, `page`, `page_size`). */
import { Button } from "./Button";

export function Pagination({
  page,
  pageSize,
  count,
  onPage,
  label = "Pagination",
}: {
  page: number;
  pageSize: number;
  count: number;
  onPage: (page: number) => void;
  label?: string;
}) {
  const pages = Math.max(1, Math.ceil(count / pageSize));
  if (count <= pageSize && page === 1) return null;
  const first = (page - 1) * pageSize + 1;
  const last = Math.min(count, page * pageSize);
  return (
    <nav className="pagination" aria-label={label}>
      <Button size="small" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Previous
      </Button>
      <span className="pagination-status">
        {first}–{last} of {count.toLocaleString()} · page {page} of {pages}
      </span>
      <Button size="small" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        Next
      </Button>
    </nav>
  );
}
