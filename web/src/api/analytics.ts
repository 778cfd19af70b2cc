/**
 * Analytics (task-svc, LabelOps' own paths): a project's throughput, lead time, review
 * outcomes and agreement per day or hour, and per person. Annotators and reviewers get
 * their own figures only; managers and up get the project's and everyone's.
 */
import { api } from "./client";
import type { AnalyticsPeople, AnalyticsSeries } from "./types";

export type { AnalyticsFigures, AnalyticsPeople, AnalyticsPoint, AnalyticsSeries, PersonFigures } from "./types";

export type AnalyticsInterval = "day" | "hour";

export interface AnalyticsRange {
  /** ISO dates (UTC days); `to` is inclusive. */
  from: string;
  to: string;
  interval: AnalyticsInterval;
}

export function getSeries(projectId: number, range: AnalyticsRange, signal?: AbortSignal): Promise<AnalyticsSeries> {
  return api<AnalyticsSeries>(`/api/projects/${projectId}/analytics/`, {
    query: { from: range.from, to: range.to, interval: range.interval },
    signal,
  });
}

export function getPeople(projectId: number, range: AnalyticsRange, signal?: AbortSignal): Promise<AnalyticsPeople> {
  return api<AnalyticsPeople>(`/api/projects/${projectId}/analytics/people/`, {
    query: { from: range.from, to: range.to },
    signal,
  });
}
