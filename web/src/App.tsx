/**
 * The route table of the web app. API paths (`/api`, `/user`, `/data`, ...) belong to the
 * services; every other path is the app's, so a reload on any page lands here again.
 *
 * Signed-in pages sit under `RequireAuth` (401 → /sign-in?next=...) and `AppShell` (top
 * bar); project pages also under `ProjectLayout` (project sub-nav, `useProject()`).
 */
import { lazy, Suspense } from "react";
import { Navigate, Route, Routes } from "react-router-dom";

import { RequireAuth } from "./auth";
import { AppShell, ProjectLayout } from "./layout";
import { LoadingBlock } from "./ui";

const SignIn = lazy(() => import("./pages/auth/SignIn"));
const SignUp = lazy(() => import("./pages/auth/SignUp"));
const ProjectList = lazy(() => import("./pages/projects/ProjectList"));
const CreateProject = lazy(() => import("./pages/projects/CreateProject"));
const ProjectSettings = lazy(() => import("./pages/settings/ProjectSettings"));
const Account = lazy(() => import("./pages/account/Account"));
const DataManager = lazy(() => import("./pages/datamanager/DataManager"));
const Labeling = lazy(() => import("./pages/labeling/Labeling"));
const Review = lazy(() => import("./pages/review/Review"));
const ImportPage = lazy(() => import("./pages/import/ImportPage"));
const ExportPage = lazy(() => import("./pages/export/ExportPage"));
const AnalyticsPage = lazy(() => import("./pages/analytics/AnalyticsPage"));

export function App() {
  return (
    <Suspense fallback={<LoadingBlock />}>
      <Routes>
        <Route path="/" element={<Navigate to="/projects" replace />} />
        <Route path="/sign-in" element={<SignIn />} />
        <Route path="/sign-up" element={<SignUp />} />
        <Route element={<RequireAuth />}>
          <Route element={<AppShell />}>
            <Route path="/projects" element={<ProjectList />} />
            <Route path="/projects/new" element={<CreateProject />} />
            <Route path="/projects/:projectId" element={<ProjectLayout />}>
              <Route path="data" element={<DataManager />} />
              <Route path="label" element={<Labeling />} />
              <Route path="review" element={<Review />} />
              <Route path="import" element={<ImportPage />} />
              <Route path="export" element={<ExportPage />} />
              <Route path="analytics" element={<AnalyticsPage />} />
              <Route path="settings" element={<ProjectSettings />} />
              <Route path="settings/:section" element={<ProjectSettings />} />
            </Route>
            <Route path="/account" element={<Account />} />
          </Route>
        </Route>
        <Route path="*" element={<Navigate to="/projects" replace />} />
      </Routes>
    </Suspense>
  );
}
