/**
 * What the data manager's "Assign Tasks" and "Unassign Tasks" actions ask for: the kind of
 * work (annotate or review) and the people. The server checks that each person works in
 * the project and that nobody goes past the project's cap, and answers naming who.
 */
import { useEffect, useState } from "react";

import { listUsers } from "../../api/users";
import type { User } from "../../api/types";
import { Checkbox, ErrorList, LoadingBlock, Select } from "../../ui";

export type AssignmentType = "AN" | "RE";

export interface AssignChoice {
  type: AssignmentType;
  users: number[];
}

export const ASSIGN_ACTIONS = new Set(["assign_tasks", "unassign_tasks"]);

const TYPES = [
  { value: "AN", label: "Annotate" },
  { value: "RE", label: "Review" },
];

export function assignParams(choice: AssignChoice): Record<string, unknown> {
  return choice.users.length > 0 ? { type: choice.type, users: choice.users } : { type: choice.type };
}

export function AssignFields({ choice, onChange }: { choice: AssignChoice; onChange: (next: AssignChoice) => void }) {
  const [people, setPeople] = useState<User[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let live = true;
    listUsers()
      .then((found) => live && setPeople(found))
      .catch((caught: unknown) => live && setError(caught));
    return () => {
      live = false;
    };
  }, []);

  const toggle = (userId: number) =>
    onChange({
      ...choice,
      users: choice.users.includes(userId) ? choice.users.filter((id) => id !== userId) : [...choice.users, userId],
    });

  return (
    <div className="dm-assign">
      <Select
        label="Work"
        value={choice.type}
        options={TYPES}
        onChange={(event) => onChange({ ...choice, type: event.target.value as AssignmentType })}
      />
      <ErrorList error={error} title="Could not load the people" />
      {people === null && !error && <LoadingBlock label="Loading people…" />}
      {people && (
        <fieldset className="dm-assign-people">
          <legend>People</legend>
          <ul role="list" aria-label="Assignees">
            {people.map((person) => (
              <li key={person.id}>
                <Checkbox
                  label={person.email}
                  checked={choice.users.includes(person.id)}
                  onChange={() => toggle(person.id)}
                />
              </li>
            ))}
          </ul>
        </fieldset>
      )}
    </div>
  );
}
