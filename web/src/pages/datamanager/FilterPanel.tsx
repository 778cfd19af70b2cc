/** The filter rows of the data manager: column, operator for its type, value; and/or. */
import { columnKey, type Column } from "../../api/dm";
import { Button } from "../../ui";
import { columnLabel, filterKind, isFilterable, newFilterRow, OPERATORS, tableColumns, type FilterRow } from "./columns";

export interface FilterPanelProps {
  columns: Column[];
  rows: FilterRow[];
  conjunction: "and" | "or";
  onChange: (rows: FilterRow[], conjunction: "and" | "or") => void;
}

function ValueInput({
  index,
  row,
  column,
  onText,
}: {
  index: number;
  row: FilterRow;
  column: Column;
  onText: (text: string) => void;
}) {
  const label = `Filter ${index + 1} value`;
  const kind = filterKind(column);
  if (row.operator === "empty" || kind === "Boolean") {
    const options =
      row.operator === "empty"
        ? [
            { value: "true", label: "yes" },
            { value: "false", label: "no" },
          ]
        : [
            { value: "true", label: "true" },
            { value: "false", label: "false" },
          ];
    return (
      <select className="input" aria-label={label} value={row.text} onChange={(event) => onText(event.target.value)}>
        <option value="">—</option>
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    );
  }
  const type = kind === "Number" ? "number" : kind === "Datetime" ? "datetime-local" : "text";
  return (
    <input
      className="input"
      aria-label={label}
      type={type}
      value={row.text}
      placeholder={column.id === "annotators" ? "user id" : "value"}
      onChange={(event) => onText(event.target.value)}
    />
  );
}

export function FilterPanel({ columns, rows, conjunction, onChange }: FilterPanelProps) {
  const filterable = tableColumns(columns).filter(isFilterable);
  const byKey = new Map(filterable.map((column) => [columnKey(column), column]));
  const update = (index: number, change: Partial<FilterRow>) =>
    onChange(
      rows.map((row, position) => (position === index ? { ...row, ...change } : row)),
      conjunction,
    );

  return (
    <section className="dm-filters" aria-label="Filters">
      {rows.length === 0 && <p className="muted">No filters: every task is listed.</p>}
      {rows.map((row, index) => {
        const column = byKey.get(row.column) ?? filterable[0];
        if (!column) return null;
        const operators = OPERATORS[filterKind(column)];
        return (
          <div className="dm-filter-row" key={index}>
            <span className="dm-filter-join">
              {index === 0 ? (
                "Where"
              ) : index === 1 ? (
                <select
                  className="input"
                  aria-label="Match"
                  value={conjunction}
                  onChange={(event) => onChange(rows, event.target.value as "and" | "or")}
                >
                  <option value="and">and</option>
                  <option value="or">or</option>
                </select>
              ) : (
                conjunction
              )}
            </span>
            <select
              className="input"
              aria-label={`Filter ${index + 1} column`}
              value={columnKey(column)}
              onChange={(event) => {
                const chosen = byKey.get(event.target.value);
                if (chosen) update(index, newFilterRow(chosen));
              }}
            >
              {filterable.map((option) => (
                <option key={columnKey(option)} value={columnKey(option)}>
                  {columnLabel(option)}
                </option>
              ))}
            </select>
            <select
              className="input"
              aria-label={`Filter ${index + 1} operator`}
              value={row.operator}
              onChange={(event) => update(index, { operator: event.target.value, text: "" })}
            >
              {operators.map((operator) => (
                <option key={operator.value} value={operator.value}>
                  {operator.label}
                </option>
              ))}
            </select>
            <ValueInput index={index} row={row} column={column} onText={(text) => update(index, { text })} />
            <Button
              size="small"
              variant="ghost"
              aria-label={`Remove filter ${index + 1}`}
              onClick={() =>
                onChange(
                  rows.filter((_, position) => position !== index),
                  conjunction,
                )
              }
            >
              ×
            </Button>
          </div>
        );
      })}
      <div className="button-row">
        <Button
          size="small"
          onClick={() => {
            const first = filterable.find((column) => column.parent === "data") ?? filterable[0];
            if (first) onChange([...rows, newFilterRow(first)], conjunction);
          }}
        >
          Add filter
        </Button>
        {rows.length > 0 && (
          <Button size="small" variant="ghost" onClick={() => onChange([], conjunction)}>
            Clear filters
          </Button>
        )}
      </div>
    </section>
  );
}
