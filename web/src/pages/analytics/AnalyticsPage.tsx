/**
 * Analytics: the project's throughput, lead time, review outcomes and agreement over
 * time (UTC days or hours), and a table per person. Annotators and reviewers see their own
 * figures; managers and up see the project's and everyone's (the API decides).
 */
import { useCallback, useState } from "react";

import {
  getPeople,
  getSeries,
  type AnalyticsFigures,
  type AnalyticsInterval,
  type AnalyticsPeople,
  type AnalyticsSeries,
} from "../../api/analytics";
import { useProject } from "../../layout";
import { ErrorList, formatCount, ListTable, LoadingBlock, Select, TextInput, useLoaded } from "../../ui";
import { formatAxisCount, formatRatio, formatSeconds, isoDay, periodLabel } from "./chart";
import { LineChart } from "./LineChart";
import "./analytics.css";

const DAY_MS = 24 * 3600 * 1000;

function Totals({ totals }: { totals: AnalyticsFigures }) {
  const figures: [string, string, string][] = [
    ["annotations", "Annotations", formatCount(totals.annotations)],
    ["skipped", "Skipped", formatCount(totals.skipped)],
    ["tasks-completed", "Tasks completed", formatCount(totals.tasks_completed)],
    ["lead-time", "Mean lead time", formatSeconds(totals.lead_time_mean)],
    ["completion-time", "Mean time to first completion", formatSeconds(totals.completion_time_mean)],
    ["reviews-accepted", "Reviews accepted", formatCount(totals.reviews_accepted)],
    ["reviews-rejected", "Reviews rejected", formatCount(totals.reviews_rejected)],
    ["agreement", "Mean agreement", formatRatio(totals.agreement_mean)],
  ];
  return (
    <dl className="analytics-totals">
      {figures.map(([key, label, value]) => (
        <div key={key} data-testid={`total-${key}`}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function Charts({ data }: { data: AnalyticsSeries }) {
  const labels = data.series.map((point) => periodLabel(point.period, data.interval));
  return (
    <div className="analytics-charts">
      <LineChart
        title="Throughput"
        labels={labels}
        format={formatAxisCount}
        series={[
          { label: "Annotations", values: data.series.map((p) => p.annotations) },
          { label: "Tasks completed", values: data.series.map((p) => p.tasks_completed) },
          { label: "Skipped", values: data.series.map((p) => p.skipped) },
        ]}
      />
      <LineChart
        title="Lead time"
        labels={labels}
        format={formatSeconds}
        series={[
          { label: "Mean lead time", values: data.series.map((p) => p.lead_time_mean ?? null) },
          { label: "Time to first completion", values: data.series.map((p) => p.completion_time_mean ?? null) },
        ]}
      />
      <LineChart
        title="Review outcomes"
        labels={labels}
        format={formatAxisCount}
        series={[
          { label: "Accepted", values: data.series.map((p) => p.reviews_accepted) },
          { label: "Rejected", values: data.series.map((p) => p.reviews_rejected) },
          ...(data.user === null
            ? []
            : [
                { label: "My work accepted", values: data.series.map((p) => p.accepted_received) },
                { label: "My work rejected", values: data.series.map((p) => p.rejected_received) },
              ]),
        ]}
      />
      <LineChart
        title="Agreement"
        labels={labels}
        format={formatRatio}
        maxValue={1}
        series={[{ label: "Mean task agreement", values: data.series.map((p) => p.agreement_mean ?? null) }]}
      />
    </div>
  );
}

function PeopleTable({ data }: { data: AnalyticsPeople }) {
  if (data.people.length === 0) return <p className="muted">Nobody worked on this project in the range.</p>;
  return (
    <ListTable
      label="People"
      columns={[
        "Person",
        "Annotations",
        "Skipped",
        "Tasks completed",
        "Mean lead time",
        "Reviews given (accepted / rejected)",
        "Their work (accepted / rejected)",
        "Mean agreement",
      ]}
    >
      {data.people.map((person) => (
        <tr key={person.user} data-testid={`person-${person.user}`}>
          <td>{person.email || [person.first_name, person.last_name].filter(Boolean).join(" ") || `User ${person.user}`}</td>
          <td data-column="annotations">{formatCount(person.annotations)}</td>
          <td data-column="skipped">{formatCount(person.skipped)}</td>
          <td data-column="tasks_completed">{formatCount(person.tasks_completed)}</td>
          <td data-column="lead_time_mean">{formatSeconds(person.lead_time_mean)}</td>
          <td data-column="reviews_given">
            {formatCount(person.reviews_accepted)} / {formatCount(person.reviews_rejected)}
          </td>
          <td data-column="reviews_received">
            {formatCount(person.accepted_received)} / {formatCount(person.rejected_received)}
          </td>
          <td data-column="agreement_mean">{formatRatio(person.agreement_mean)}</td>
          <td />
        </tr>
      ))}
    </ListTable>
  );
}

export default function AnalyticsPage() {
  const { project } = useProject();
  const today = new Date();
  const [from, setFrom] = useState(isoDay(new Date(today.getTime() - 29 * DAY_MS)));
  const [to, setTo] = useState(isoDay(today));
  const [interval, setPeriod] = useState<AnalyticsInterval>("day");

  const loadSeries = useCallback(
    () => getSeries(project.id, { from, to, interval }),
    [project.id, from, to, interval],
  );
  const loadPeople = useCallback(() => getPeople(project.id, { from, to, interval }), [project.id, from, to, interval]);
  const series = useLoaded(loadSeries);
  const people = useLoaded(loadPeople);

  return (
    <main className="page analytics-page">
      <div className="page-header">
        <h1>Analytics</h1>
      </div>
      <form className="analytics-controls" onSubmit={(event) => event.preventDefault()}>
        <TextInput label="From" type="date" value={from} max={to} onChange={(e) => setFrom(e.target.value)} />
        <TextInput label="To" type="date" value={to} min={from} onChange={(e) => setTo(e.target.value)} />
        <Select
          label="Per"
          value={interval}
          onChange={(e) => setPeriod(e.target.value === "hour" ? "hour" : "day")}
          options={[
            { value: "day", label: "Day" },
            { value: "hour", label: "Hour" },
          ]}
        />
      </form>
      <p className="muted">
        Days and hours are UTC.
        {series.data && series.data.user !== null ? " These are your own figures." : ""}
      </p>
      <ErrorList error={series.error ?? people.error} />
      {series.data === null ? (
        series.error ? null : <LoadingBlock />
      ) : (
        <>
          <section className="card">
            <Totals totals={series.data.totals} />
          </section>
          <section className="card">
            <Charts data={series.data} />
          </section>
        </>
      )}
      <section className="card">
        <h2>People</h2>
        {people.data === null ? people.error ? null : <LoadingBlock /> : <PeopleTable data={people.data} />}
      </section>
    </main>
  );
}
