import { lazy, Suspense, useMemo, type ReactNode } from 'react';
import { createBrowserRouter, Link, NavLink, Outlet, RouterProvider, useParams, useRouteError } from 'react-router';
import { errorText } from './api/client';
import { type AuthState, chooseTenant, forgetTenant } from './auth';
import { Loading } from './components/common';
import type { ConsoleConfig } from './console-config';

// Every page is its own chunk: the first load carries the shell only.
const ApplicationsPage = lazy(() => import('./pages/ApplicationsPage'));
const SoftwarePage = lazy(() => import('./pages/SoftwarePage'));
const SoftwareEditorPage = lazy(() => import('./pages/SoftwareEditorPage'));
const VersionPage = lazy(() => import('./pages/VersionPage'));
const RolloutPage = lazy(() => import('./pages/RolloutPage'));
const PreviewPage = lazy(() => import('./pages/PreviewPage'));
const EndpointsPage = lazy(() => import('./pages/EndpointsPage'));
const EndpointPage = lazy(() => import('./pages/EndpointPage'));
const AuditPage = lazy(() => import('./pages/AuditPage'));

function page(node: ReactNode): ReactNode {
  return <Suspense fallback={<Loading what="page" />}>{node}</Suspense>;
}

function RouteError(): ReactNode {
  const e = useRouteError();
  return (
    <div role="alert" className="error">
      <h1>Something went wrong</h1>
      <p>{errorText(e)}</p>
      <p>
        <Link to="/">Back to the applications</Link>
      </p>
    </div>
  );
}

function AppNav(): ReactNode {
  const { app } = useParams();
  if (!app) return null;
  return (
    <nav aria-label="Application" className="subnav">
      <span className="crumb">
        <Link to="/">Applications</Link> / <strong>{app}</strong>
      </span>
      <NavLink to={`/apps/${app}`} end>
        Software
      </NavLink>
      <NavLink to={`/apps/${app}/endpoints`}>Endpoints</NavLink>
      <NavLink to={`/apps/${app}/audit`}>Audit log</NavLink>
    </nav>
  );
}

function Shell({ auth }: { auth: AuthState }): ReactNode {
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          OTAO console
        </Link>
        <span className="who">
          {auth.kind === 'off' && <>Authentication off · tenant {auth.tenant ?? 'default'}</>}
          {auth.kind === 'signed-in' && (
            <>
              {auth.user} · tenant {auth.tenant}{' '}
              <button type="button" onClick={() => void auth.signOut()}>
                Sign out
              </button>
            </>
          )}
        </span>
      </header>
      <AppNav />
      <main id="main" className="page" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}

function TenantPicker({ tenants, free }: { tenants: string[]; free: boolean }): ReactNode {
  return (
    <main id="main" className="page narrow">
      <h1>Sign in to OTAO</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const v = new FormData(e.currentTarget).get('tenant');
          if (typeof v === 'string' && v.trim()) chooseTenant(v.trim());
        }}
      >
        <label htmlFor="tenant">Tenant</label>
        {free ? (
          <input id="tenant" name="tenant" list="tenant-list" required autoFocus />
        ) : (
          <select id="tenant" name="tenant" required autoFocus>
            {tenants.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        )}
        <datalist id="tenant-list">
          {tenants.map((t) => (
            <option key={t} value={t} />
          ))}
        </datalist>
        <button type="submit">Continue</button>
      </form>
    </main>
  );
}

function SignIn({ tenant, signIn }: { tenant: string; signIn: () => Promise<void> }): ReactNode {
  return (
    <main id="main" className="page narrow">
      <h1>Sign in to OTAO</h1>
      <p>Tenant {tenant}</p>
      <button type="button" autoFocus onClick={() => void signIn()}>
        Sign in with your organisation
      </button>{' '}
      <button
        type="button"
        className="secondary"
        onClick={() => {
          forgetTenant();
          location.assign(import.meta.env.BASE_URL);
        }}
      >
        Choose another tenant
      </button>
    </main>
  );
}

export function App({ auth }: { config: ConsoleConfig; auth: AuthState }): ReactNode {
  const router = useMemo(() => makeRouter(auth), [auth]);
  if (auth.kind === 'pick-tenant') return <TenantPicker tenants={auth.tenants} free={auth.free} />;
  if (auth.kind === 'signed-out') return <SignIn tenant={auth.tenant} signIn={auth.signIn} />;
  return <RouterProvider router={router} />;
}

function makeRouter(auth: AuthState): ReturnType<typeof createBrowserRouter> {
  return createBrowserRouter(
    [
      {
        element: <Shell auth={auth} />,
        errorElement: <RouteError />,
        children: [
          { index: true, element: page(<ApplicationsPage />) },
          { path: 'callback', element: page(<ApplicationsPage />) },
          {
            path: 'apps/:app',
            children: [
              { index: true, element: page(<SoftwarePage />) },
              { path: 'software/new', element: page(<SoftwareEditorPage />) },
              { path: 'software/:version', element: page(<VersionPage />) },
              { path: 'software/:version/edit', element: page(<SoftwareEditorPage />) },
              { path: 'software/:version/rollout', element: page(<RolloutPage />) },
              { path: 'software/:version/preview', element: page(<PreviewPage />) },
              { path: 'endpoints', element: page(<EndpointsPage />) },
              { path: 'endpoints/:endpointId', element: page(<EndpointPage />) },
              { path: 'audit', element: page(<AuditPage />) },
            ],
          },
          {
            path: '*',
            element: (
              <p role="alert">
                No such page. <Link to="/">Back to the applications</Link>
              </p>
            ),
          },
        ],
      },
    ],
    { basename: import.meta.env.BASE_URL.replace(/\/$/, '') },
  );
}
