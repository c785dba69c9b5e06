import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useRef, useState, type ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { ApiError, authHeaders, errorText, rawJson, toApiError, type Software } from '../api/client';
import { keys, replaceBody, softwarePath, useSoftware } from '../api/queries';
import { ErrorBox, Loading, useTitle } from '../components/common';
import { DAYS, bodyOf, emptyForm, fieldOfMessage, formOf, idOf, jsonError, knownFields, type FormState } from './software-form';

export default function SoftwareEditorPage(): ReactNode {
  const { app, version } = useParams() as { app: string; version?: string };
  const editing = version !== undefined;
  useTitle(editing ? `Edit ${app} ${version}` : `New software of ${app}`);
  const current = useSoftware(app, version ?? '');
  if (!editing) return <Editor app={app} />;
  if (current.isPending) return <Loading what="software" />;
  if (current.error) return <ErrorBox error={current.error} title={`Software ${version} could not be loaded`} />;
  return <Editor app={app} existing={current.data.software} etag={current.data.etag} />;
}

type Errors = Record<string, string>;

function FieldError({ name, errors }: { name: string; errors: Errors }): ReactNode {
  const e = errors[name];
  return e ? (
    <p className="field-error" id={`${idOf(name)}-error`} role="alert">
      {e}
    </p>
  ) : null;
}

/** aria attributes of an input tied to its error. */
const invalid = (name: string, errors: Errors) => (errors[name] ? { 'aria-invalid': true as const, 'aria-describedby': `${idOf(name)}-error` } : {});

function Editor({ app, existing, etag }: { app: string; existing?: Software; etag?: string | undefined }): ReactNode {
  const [form, setForm] = useState<FormState>(() => (existing ? formOf(existing) : emptyForm()));
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string>();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const errorRef = useRef<HTMLDivElement>(null);
  const set = (patch: Partial<FormState>): void => setForm((f) => ({ ...f, ...patch }));

  const specError = jsonError(form.specification);
  const metaError = jsonError(form.metadata);

  const save = useMutation({
    mutationFn: async (f: FormState) => {
      const body = bodyOf(f, existing ? replaceBody(existing) : {});
      if (!existing) return rawJson<Software>('POST', `/applications/${app}/software`, { version: f.version.trim(), ...body });
      // If-Match: a change by someone else meanwhile answers 412 rather than being overwritten (§10).
      const res = await fetch(`/api/v1${softwarePath(app, existing.version)}`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json', ...(etag ? { 'If-Match': etag } : {}), ...(await authHeaders()) },
        body: JSON.stringify(body),
      });
      const parsed: unknown = await res.json().catch(() => undefined);
      if (!res.ok) throw toApiError(res.status, parsed, res.statusText);
      return parsed as Software;
    },
    onSuccess: async (sw) => {
      await qc.invalidateQueries({ queryKey: keys.software(app) });
      await navigate(`/apps/${app}/software/${encodeURIComponent(sw.version)}`);
    },
    onError: (e) => {
      const msg = errorText(e);
      if (e instanceof ApiError) {
        const field = fieldOfMessage(e.message, e.code, knownFields(form));
        if (field) {
          setErrors({ [field]: e.message });
          setFormError(undefined);
          document.getElementById(idOf(field))?.focus();
          return;
        }
        if (e.code === 'software.precondition_failed') {
          setFormError('Someone else changed this software since you opened it. Reload the page to see their change, then edit again.');
          return;
        }
      }
      setErrors({});
      setFormError(msg);
    },
  });
  useEffect(() => {
    if (formError) errorRef.current?.focus();
  }, [formError]);

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    const local: Errors = {};
    if (!existing && !form.version.trim()) local['version'] = 'version: is required';
    if (specError) local['specification'] = `specification: ${specError}`;
    if (metaError) local['metadata'] = `metadata: ${metaError}`;
    setErrors(local);
    setFormError(undefined);
    const first = Object.keys(local)[0];
    if (first) {
      document.getElementById(idOf(first))?.focus();
      return;
    }
    save.mutate(form);
  };

  return (
    <form onSubmit={submit} noValidate className="editor" aria-labelledby="editor-title">
      <h1 id="editor-title">{existing ? `Edit ${app} ${existing.version}` : `New software of ${app}`}</h1>
      {formError && (
        <div ref={errorRef} tabIndex={-1}>
          <ErrorBox error={formError} title="Not saved" />
        </div>
      )}
      <fieldset>
        <legend>Version and strategy</legend>
        <div className="field">
          <label htmlFor={idOf('version')}>Version (SemVer)</label>
          <input
            id={idOf('version')}
            value={form.version}
            readOnly={!!existing}
            required
            placeholder="1.2.0"
            onChange={(e) => set({ version: e.target.value })}
            {...invalid('version', errors)}
          />
          <FieldError name="version" errors={errors} />
        </div>
        <div className="field">
          <label htmlFor={idOf('rolloutStrategy')}>Rollout strategy</label>
          <select
            id={idOf('rolloutStrategy')}
            value={form.rolloutStrategy}
            onChange={(e) => set({ rolloutStrategy: e.target.value as FormState['rolloutStrategy'] })}
            {...invalid('rolloutStrategy', errors)}
          >
            <option value="suspended">suspended — nobody is offered it</option>
            <option value="targeted">targeted — endpoints of the filters below</option>
            <option value="general">general — every endpoint on an upgradable version</option>
          </select>
          <FieldError name="rolloutStrategy" errors={errors} />
        </div>
        <div className="field">
          <label htmlFor={idOf('upgradableFrom')}>Upgradable from (one version or range per line)</label>
          <textarea
            id={idOf('upgradableFrom')}
            rows={3}
            value={form.upgradableFrom}
            placeholder={'1.0.0\n>=1.1.0 <2.0.0'}
            onChange={(e) => set({ upgradableFrom: e.target.value })}
            {...invalid('upgradableFrom', errors)}
          />
          <FieldError name="upgradableFrom" errors={errors} />
        </div>
      </fieldset>

      <fieldset>
        <legend>Filters (targeted rollout)</legend>
        <FieldError name="filters" errors={errors} />
        {form.filters.map((fl, i) => (
          <div className="row" key={i}>
            <div className="field">
              <label htmlFor={idOf(`filters[${i}].filterId`)}>Filter {i + 1} id</label>
              <input
                id={idOf(`filters[${i}].filterId`)}
                value={fl.filterId}
                onChange={(e) => set({ filters: form.filters.map((x, j) => (j === i ? { ...x, filterId: e.target.value } : x)) })}
                {...invalid(`filters[${i}].filterId`, errors)}
              />
              <FieldError name={`filters[${i}].filterId`} errors={errors} />
            </div>
            <div className="field">
              <label htmlFor={idOf(`filters[${i}].rolloutDate`)}>Filter {i + 1} rollout date (UTC, empty = now)</label>
              <input
                id={idOf(`filters[${i}].rolloutDate`)}
                type="datetime-local"
                step={1}
                value={fl.rolloutDate}
                onChange={(e) => set({ filters: form.filters.map((x, j) => (j === i ? { ...x, rolloutDate: e.target.value } : x)) })}
                {...invalid(`filters[${i}].rolloutDate`, errors)}
              />
              <FieldError name={`filters[${i}].rolloutDate`} errors={errors} />
            </div>
            <button
              type="button"
              className="secondary"
              onClick={() => set({ filters: form.filters.filter((_, j) => j !== i) })}
              aria-label={`Remove filter ${i + 1}`}
            >
              Remove
            </button>
          </div>
        ))}
        <button type="button" className="secondary" onClick={() => set({ filters: [...form.filters, { filterId: '', rolloutDate: '' }] })}>
          Add filter
        </button>
      </fieldset>

      <fieldset>
        <legend>Failure policy (automatic suspension)</legend>
        <label className="check">
          <input type="checkbox" checked={form.failurePolicy.on} onChange={(e) => set({ failurePolicy: { ...form.failurePolicy, on: e.target.checked } })} />{' '}
          Suspend automatically when too many fail
        </label>
        <FieldError name="failurePolicy" errors={errors} />
        {form.failurePolicy.on && (
          <div className="row">
            {(
              [
                ['maxFailureRate', 'Maximum failure rate (0–1)', '0.01'],
                ['minReports', 'Minimum reports', '1'],
                ['reportTimeoutMinutes', 'Report timeout, minutes (optional)', '1'],
              ] as const
            ).map(([k, label, step]) => (
              <div className="field" key={k}>
                <label htmlFor={idOf(`failurePolicy.${k}`)}>{label}</label>
                <input
                  id={idOf(`failurePolicy.${k}`)}
                  type="number"
                  step={step}
                  value={form.failurePolicy[k]}
                  onChange={(e) => set({ failurePolicy: { ...form.failurePolicy, [k]: e.target.value } })}
                  {...invalid(`failurePolicy.${k}`, errors)}
                />
                <FieldError name={`failurePolicy.${k}`} errors={errors} />
              </div>
            ))}
          </div>
        )}
      </fieldset>

      <fieldset>
        <legend>Phases (phased rollout)</legend>
        <FieldError name="phases" errors={errors} />
        {form.phases.map((p, i) => (
          <div className="row" key={i}>
            <div className="field">
              <label htmlFor={idOf(`phases[${i}].percent`)}>Phase {i + 1} percent of endpoints</label>
              <input
                id={idOf(`phases[${i}].percent`)}
                type="number"
                step="any"
                value={p.percent}
                onChange={(e) => set({ phases: form.phases.map((x, j) => (j === i ? { ...x, percent: e.target.value } : x)) })}
                {...invalid(`phases[${i}].percent`, errors)}
              />
              <FieldError name={`phases[${i}].percent`} errors={errors} />
            </div>
            <div className="field">
              <label htmlFor={idOf(`phases[${i}].soakMinutes`)}>Phase {i + 1} soak minutes (default 60)</label>
              <input
                id={idOf(`phases[${i}].soakMinutes`)}
                type="number"
                value={p.soakMinutes}
                onChange={(e) => set({ phases: form.phases.map((x, j) => (j === i ? { ...x, soakMinutes: e.target.value } : x)) })}
                {...invalid(`phases[${i}].soakMinutes`, errors)}
              />
              <FieldError name={`phases[${i}].soakMinutes`} errors={errors} />
            </div>
            <button
              type="button"
              className="secondary"
              onClick={() => set({ phases: form.phases.filter((_, j) => j !== i) })}
              aria-label={`Remove phase ${i + 1}`}
            >
              Remove
            </button>
          </div>
        ))}
        <button
          type="button"
          className="secondary"
          onClick={() => set({ phases: [...form.phases, { percent: form.phases.length ? '100' : '5', soakMinutes: '' }] })}
        >
          Add phase
        </button>
        <div>
          <label className="check">
            <input type="checkbox" checked={form.phaseGate.on} onChange={(e) => set({ phaseGate: { ...form.phaseGate, on: e.target.checked } })} /> Health gate
            for advancing a phase
          </label>
        </div>
        <FieldError name="phaseGate" errors={errors} />
        {form.phaseGate.on && (
          <div className="row">
            {(
              [
                ['maxFailureRate', 'Gate: maximum failure rate (0–1)'],
                ['minReports', 'Gate: minimum reports'],
              ] as const
            ).map(([k, label]) => (
              <div className="field" key={k}>
                <label htmlFor={idOf(`phaseGate.${k}`)}>{label}</label>
                <input
                  id={idOf(`phaseGate.${k}`)}
                  type="number"
                  step="any"
                  value={form.phaseGate[k]}
                  onChange={(e) => set({ phaseGate: { ...form.phaseGate, [k]: e.target.value } })}
                  {...invalid(`phaseGate.${k}`, errors)}
                />
                <FieldError name={`phaseGate.${k}`} errors={errors} />
              </div>
            ))}
          </div>
        )}
      </fieldset>

      <fieldset>
        <legend>Maintenance window</legend>
        <label className="check">
          <input type="checkbox" checked={form.window.on} onChange={(e) => set({ window: { ...form.window, on: e.target.checked } })} /> Offer only inside a
          maintenance window
        </label>
        <FieldError name="window" errors={errors} />
        {form.window.on && (
          <>
            <div className="row">
              <div className="field">
                <label htmlFor={idOf('window.timeZone')}>Time zone (IANA)</label>
                <input
                  id={idOf('window.timeZone')}
                  value={form.window.timeZone}
                  placeholder="Europe/Berlin"
                  onChange={(e) => set({ window: { ...form.window, timeZone: e.target.value } })}
                  {...invalid('window.timeZone', errors)}
                />
                <FieldError name="window.timeZone" errors={errors} />
              </div>
              <div className="field">
                <label htmlFor={idOf('window.start')}>Opens at</label>
                <input
                  id={idOf('window.start')}
                  type="time"
                  value={form.window.start}
                  onChange={(e) => set({ window: { ...form.window, start: e.target.value } })}
                  {...invalid('window.start', errors)}
                />
                <FieldError name="window.start" errors={errors} />
              </div>
              <div className="field">
                <label htmlFor={idOf('window.end')}>Closes at</label>
                <input
                  id={idOf('window.end')}
                  type="time"
                  value={form.window.end}
                  onChange={(e) => set({ window: { ...form.window, end: e.target.value } })}
                  {...invalid('window.end', errors)}
                />
                <FieldError name="window.end" errors={errors} />
              </div>
            </div>
            <fieldset className="days" id={idOf('window.days')} tabIndex={-1}>
              <legend>Days the window opens (none = every day)</legend>
              {DAYS.map((d) => (
                <label key={d} className="check">
                  <input
                    type="checkbox"
                    checked={form.window.days.includes(d)}
                    onChange={(e) =>
                      set({ window: { ...form.window, days: e.target.checked ? [...form.window.days, d] : form.window.days.filter((x) => x !== d) } })
                    }
                  />{' '}
                  {d}
                </label>
              ))}
              <FieldError name="window.days" errors={errors} />
            </fieldset>
          </>
        )}
      </fieldset>

      <fieldset>
        <legend>Specification and metadata (JSON)</legend>
        <div className="field">
          <label htmlFor={idOf('specification')}>Specification (delivered to the endpoint as is)</label>
          <textarea
            id={idOf('specification')}
            className="code"
            rows={8}
            spellCheck={false}
            value={form.specification}
            onChange={(e) => set({ specification: e.target.value })}
            {...(specError || errors['specification'] ? { 'aria-invalid': true as const, 'aria-describedby': `${idOf('specification')}-error` } : {})}
          />
          {specError ? (
            <p className="field-error" id={`${idOf('specification')}-error`} role="alert">
              JSON syntax error: {specError}
            </p>
          ) : (
            <FieldError name="specification" errors={errors} />
          )}
        </div>
        <div className="field">
          <label htmlFor={idOf('metadata')}>Metadata (descriptive)</label>
          <textarea
            id={idOf('metadata')}
            className="code"
            rows={4}
            spellCheck={false}
            value={form.metadata}
            onChange={(e) => set({ metadata: e.target.value })}
            {...(metaError || errors['metadata'] ? { 'aria-invalid': true as const, 'aria-describedby': `${idOf('metadata')}-error` } : {})}
          />
          {metaError ? (
            <p className="field-error" id={`${idOf('metadata')}-error`} role="alert">
              JSON syntax error: {metaError}
            </p>
          ) : (
            <FieldError name="metadata" errors={errors} />
          )}
        </div>
      </fieldset>
      <div className="actions">
        <button type="submit" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : existing ? 'Save changes' : 'Create software'}
        </button>
        <Link to={existing ? `/apps/${app}/software/${encodeURIComponent(existing.version)}` : `/apps/${app}`}>Cancel</Link>
      </div>
    </form>
  );
}
