import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { useApplications } from '../api/queries';
import { ErrorBox, Loading, useTitle } from '../components/common';

export default function ApplicationsPage(): ReactNode {
  useTitle('Applications');
  const apps = useApplications();
  return (
    <>
      <h1>Applications</h1>
      {apps.isPending && <Loading what="applications" />}
      {apps.error && <ErrorBox error={apps.error} title="The applications could not be loaded" />}
      {apps.data && apps.data.length === 0 && <p>No application of this tenant is visible to you.</p>}
      {apps.data && apps.data.length > 0 && (
        <table>
          <caption className="sr-only">Applications of the tenant</caption>
          <thead>
            <tr>
              <th scope="col">Application</th>
              <th scope="col">Consent required</th>
              <th scope="col">Application versions</th>
              <th scope="col">Go to</th>
            </tr>
          </thead>
          <tbody>
            {apps.data.map((a) => (
              <tr key={a.appName}>
                <th scope="row">
                  <Link to={`/apps/${a.appName}`}>{a.appName}</Link>
                </th>
                <td>{a.consentRequired ? 'yes' : 'no'}</td>
                <td>{a.appVersionNames.join(', ') || '—'}</td>
                <td>
                  <Link to={`/apps/${a.appName}/endpoints`} aria-label={`Endpoints of ${a.appName}`}>
                    Endpoints
                  </Link>{' '}
                  ·{' '}
                  <Link to={`/apps/${a.appName}/audit`} aria-label={`Audit log of ${a.appName}`}>
                    Audit log
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
