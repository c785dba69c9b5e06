import type { QueryClient } from '@tanstack/react-query';
import { useMemo, useState, type ReactNode } from 'react';
import { createBrowserRouter, Link, NavLink, Outlet, RouterProvider, useParams, useRouteError } from 'react-router';
import { errorText } from './api/client';
import { softwareListQuery } from './api/software-list';
import { type AuthState, chooseTenant, forgetTenant } from './auth';
import { Loading } from './components/common';
import type { ConsoleConfig } from './console-config';

// Every page is its own chunk (the first load carries the shell only), loaded by the router before
// it shows the page (route `lazy`): no Suspense fallback, so React never holds back the page (it
// throttles a Suspense reveal to 300 ms after its fallback). A page's main query starts in its
// route's loader, in parallel with the page's chunk; the loader does not wait for it.
type PageModule = { default: () => ReactNode };
const pageOf = (load: () => Promise<PageModule>) => async () => ({ Component: (await load()).default });

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
  const [failure, setFailure] = useState<string>();
  return (
    <main id="main" className="page narrow">
      <h1>Sign in to OTAO</h1>
      <p>Tenant {tenant}</p>
      {failure && (
        <p role="alert" className="error">
          {failure}
        </p>
      )}
      <button
        type="button"
        autoFocus
        onClick={() => {
          setFailure(undefined);
          // The issuer's discovery document is read first: an unknown tenant (no such realm) or an
          // unreachable issuer fails here, before any redirect.
          signIn().catch((e: unknown) =>
            setFailure(`The sign-in service of tenant ${tenant} could not be reached, or it does not know this tenant (${errorText(e)}).`),
          );
        }}
      >
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

export function App({ auth, queryClient }: { config: ConsoleConfig; auth: AuthState; queryClient: QueryClient }): ReactNode {
  if (auth.kind === 'pick-tenant') return <TenantPicker tenants={auth.tenants} free={auth.free} />;
  if (auth.kind === 'signed-out') return <SignIn tenant={auth.tenant} signIn={auth.signIn} />;
  return <Pages auth={auth} queryClient={queryClient} />;
}

/** The pages, once the person is known: the router is made only then, as its loaders call the API at once. */
function Pages({ auth, queryClient }: { auth: AuthState; queryClient: QueryClient }): ReactNode {
  const router = useMemo(() => makeRouter(auth, queryClient), [auth, queryClient]);
  return <RouterProvider router={router} />;
}

function makeRouter(auth: AuthState, qc: QueryClient): ReturnType<typeof createBrowserRouter> {
  /** Starts the software list of the route's application (not awaited: the page shows its own loading state). */
  const softwareList = ({ params }: { params: { app?: string } }): null => {
    if (params.app) void qc.prefetchQuery(softwareListQuery(params.app));
    return null;
  };
  return createBrowserRouter(
    [
      {
        element: <Shell auth={auth} />,
        errorElement: <RouteError />,
        hydrateFallbackElement: <Loading what="page" />,
        children: [
          { index: true, lazy: pageOf(() => import('./pages/ApplicationsPage')) },
          { path: 'callback', lazy: pageOf(() => import('./pages/ApplicationsPage')) },
          {
            path: 'apps/:app',
            children: [
              { index: true, loader: softwareList, lazy: pageOf(() => import('./pages/SoftwarePage')) },
              { path: 'software/new', lazy: pageOf(() => import('./pages/SoftwareEditorPage')) },
              { path: 'software/:version', lazy: pageOf(() => import('./pages/VersionPage')) },
              { path: 'software/:version/edit', lazy: pageOf(() => import('./pages/SoftwareEditorPage')) },
              { path: 'software/:version/rollout', lazy: pageOf(() => import('./pages/RolloutPage')) },
              { path: 'software/:version/preview', lazy: pageOf(() => import('./pages/PreviewPage')) },
              { path: 'endpoints', lazy: pageOf(() => import('./pages/EndpointsPage')) },
              { path: 'endpoints/:endpointId', loader: softwareList, lazy: pageOf(() => import('./pages/EndpointPage')) },
              { path: 'audit', lazy: pageOf(() => import('./pages/AuditPage')) },
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
