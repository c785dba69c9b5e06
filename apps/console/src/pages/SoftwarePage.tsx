import type { ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { useSoftwareList } from '../api/queries';
import { consoleHref, ErrorBox, Loading, StrategyBadge, useLinkDelegation, useTitle } from '../components/common';
import { UpgradeGraph } from '../components/UpgradeGraph';
import { mark } from '../perf';

export default function SoftwarePage(): ReactNode {
  const app = useParams().app!;
  mark('software-page');
  useTitle(`Software of ${app}`);
  const list = useSoftwareList(app);
  const onClick = useLinkDelegation();
  /** A plain anchor navigated by the table's click handler (200 rows have 800 links). */
  const link = (to: string, text: string, label?: string): ReactNode => (
    <a href={consoleHref(to)} data-to={to} aria-label={label}>
      {text}
    </a>
  );
  return (
    <>
      <div className="title-row">
        <h1>Software of {app}</h1>
        <Link className="button" to={`/apps/${app}/software/new`}>
          New software
        </Link>
      </div>
      {list.isPending && <Loading what="software" />}
      {list.error && <ErrorBox error={list.error} title="The software could not be loaded" />}
      {list.data &&
        (list.data.length === 0 ? (
          <p>No software yet.</p>
        ) : (
          <>
            <table onClick={onClick}>
              <caption className="sr-only">Software versions in SemVer order</caption>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Strategy</th>
                  <th scope="col">Upgradable from</th>
                  <th scope="col">Filters</th>
                  <th scope="col">File</th>
                  <th scope="col">Updated</th>
                  <th scope="col">Pages</th>
                </tr>
              </thead>
              <tbody>
                {list.data.map((s) => {
                  const v = `/apps/${app}/software/${encodeURIComponent(s.version)}`;
                  return (
                    <tr key={s.version} className={s.rolloutStrategy === 'suspended' ? 'row-suspended' : ''}>
                      <th scope="row">{link(v, s.version)}</th>
                      <td>
                        <StrategyBadge strategy={s.rolloutStrategy} />
                        {s.suspendedReason ? <div className="muted small">{s.suspendedReason}</div> : null}
                      </td>
                      <td>{s.upgradableFrom.length ? s.upgradableFrom.map((u) => <code key={u}>{u}</code>) : '—'}</td>
                      <td>{s.filters.length ? s.filters.map((f) => f.filterId + (f.rolloutDate ? ` (from ${f.rolloutDate})` : '')).join(', ') : '—'}</td>
                      <td>{s.file ? s.file.name : '—'}</td>
                      <td>{s.updatedAt}</td>
                      <td className="links">
                        {link(`${v}/rollout`, 'Rollout', `Rollout of ${s.version}`)}
                        {link(`${v}/preview`, 'Preview', `Preview of ${s.version}`)}
                        {link(`${v}/edit`, 'Edit', `Edit ${s.version}`)}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            <h2>Upgrade graph</h2>
            <UpgradeGraph
              app={app}
              software={list.data}
              caption={`Upgrade graph of ${app}: an arrow leads from the version an endpoint is on to the version it may upgrade to`}
            />
          </>
        ))}
    </>
  );
}
