/**
 * The route table of the web app. API paths (`/api`, `/user`, `/data`, ...) belong to the
 * services; every other path is the app's, so a reload on any page lands here again.
 */
import { lazy, Suspense } from "react";
import { Navigate, Route, Routes } from "react-router-dom";

const SignIn = lazy(() => import("./pages/auth/SignIn"));
const SignUp = lazy(() => import("./pages/auth/SignUp"));
const ProjectList = lazy(() => import("./pages/projects/ProjectList"));
const CreateProject = lazy(() => import("./pages/projects/CreateProject"));
const ProjectSettings = lazy(() => import("./pages/settings/ProjectSettings"));
const Account = lazy(() => import("./pages/account/Account"));
const DataManager = lazy(() => import("./pages/datamanager/DataManager"));
const Labeling = lazy(() => import("./pages/labeling/Labeling"));
const ImportPage = lazy(() => import("./pages/import/ImportPage"));
const ExportPage = lazy(() => import("./pages/export/ExportPage"));

export function App() {
  return (
    <Suspense fallback={<div className="page-loading">Loading…</div>}>
      <Routes>
        <Route path="/" element={<Navigate to="/projects" replace />} />
        <Route path="/sign-in" element={<SignIn />} />
        <Route path="/sign-up" element={<SignUp />} />
        <Route path="/projects" element={<ProjectList />} />
        <Route path="/projects/new" element={<CreateProject />} />
        <Route path="/projects/:projectId" element={<Navigate to="data" replace />} />
        <Route path="/projects/:projectId/data" element={<DataManager />} />
        <Route path="/projects/:projectId/label" element={<Labeling />} />
        <Route path="/projects/:projectId/import" element={<ImportPage />} />
        <Route path="/projects/:projectId/export" element={<ExportPage />} />
        <Route path="/projects/:projectId/settings" element={<ProjectSettings />} />
        <Route path="/projects/:projectId/settings/:section" element={<ProjectSettings />} />
        <Route path="/account" element={<Account />} />
        <Route path="*" element={<Navigate to="/projects" replace />} />
      </Routes>
    </Suspense>
  );
}
