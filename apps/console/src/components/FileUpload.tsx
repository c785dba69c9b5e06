// Upload of a software file (spec §5/§6.2) with a progress bar: XMLHttpRequest, whose upload
// progress events fetch does not give. The size and SHA-256 shown are the server's, computed on the
// way to S3.
import { useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState, type ReactNode } from 'react';
import { API_BASE, authHeaders, errorText, type FileInfo, seg, toApiError } from '../api/client';
import { keys } from '../api/queries';
import { ErrorBox, formatBytes } from './common';

/** The person cancelled the upload: the request was aborted, so the server keeps the file it had (spec §5: replaced only when complete). */
export class UploadCancelled extends Error {
  constructor() {
    super('The upload was cancelled.');
    this.name = 'UploadCancelled';
  }
}

export function uploadFile(
  url: string,
  file: File,
  headers: Record<string, string>,
  onProgress: (loaded: number, total: number) => void,
  signal?: AbortSignal,
): Promise<FileInfo> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.open('PUT', url);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onerror = () => reject(new Error('The upload failed: OTAO could not be reached.'));
    xhr.onabort = () => reject(new UploadCancelled());
    xhr.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as FileInfo);
      else reject(toApiError(xhr.status, body, xhr.statusText));
    };
    xhr.send(file);
  });
}

export function FileUpload({ app, version, current }: { app: string; version: string; current?: FileInfo | undefined }): ReactNode {
  const id = useId();
  const qc = useQueryClient();
  const [file, setFile] = useState<File>();
  const [progress, setProgress] = useState<{ loaded: number; total: number }>();
  const [result, setResult] = useState<FileInfo>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [cancelled, setCancelled] = useState(false);
  const abort = useRef<AbortController>(undefined);
  const shown = result ?? current;

  const start = async (): Promise<void> => {
    if (!file) return;
    setBusy(true);
    setError(undefined);
    setCancelled(false);
    setResult(undefined);
    setProgress({ loaded: 0, total: file.size });
    const controller = new AbortController();
    abort.current = controller;
    try {
      const url = `${API_BASE}/applications/${seg(app)}/software/${seg(version)}/file?name=${encodeURIComponent(file.name)}`;
      const info = await uploadFile(url, file, await authHeaders(), (loaded, total) => setProgress({ loaded, total }), controller.signal);
      setProgress({ loaded: file.size, total: file.size });
      setResult(info);
      await qc.invalidateQueries({ queryKey: keys.software(app) });
    } catch (e) {
      if (e instanceof UploadCancelled) {
        setCancelled(true);
        setProgress(undefined);
      } else setError(e);
    } finally {
      abort.current = undefined;
      setBusy(false);
    }
  };
  const pct = progress && progress.total > 0 ? Math.round((progress.loaded / progress.total) * 100) : progress ? 100 : 0;

  return (
    <section aria-labelledby={`${id}-h`} className="card">
      <h2 id={`${id}-h`}>File</h2>
      {shown ? (
        <dl className="facts" aria-label="Attached file">
          <dt>Name</dt>
          <dd>{shown.name}</dd>
          <dt>Size</dt>
          <dd data-testid="file-size">{formatBytes(shown.size)}</dd>
          <dt>SHA-256</dt>
          <dd>
            <code data-testid="file-sha256" className="hash">
              {shown.sha256}
            </code>
          </dd>
          <dt>Content type</dt>
          <dd>{shown.contentType}</dd>
          <dt>Uploaded</dt>
          <dd>{shown.uploadedAt}</dd>
        </dl>
      ) : (
        <p className="muted">No file attached.</p>
      )}
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void start();
        }}
      >
        <div className="field">
          <label htmlFor={`${id}-file`}>{shown ? 'Replace the file' : 'Choose a file to upload'}</label>
          <input id={`${id}-file`} type="file" onChange={(e) => setFile(e.target.files?.[0])} disabled={busy} />
        </div>
        <button type="submit" disabled={!file || busy}>
          {busy ? 'Uploading…' : 'Upload'}
        </button>
        {busy && (
          <button type="button" className="secondary" onClick={() => abort.current?.abort()}>
            Cancel upload
          </button>
        )}
      </form>
      {progress && (
        <div className="progress-row">
          <label htmlFor={`${id}-progress`}>Upload progress</label>
          <progress id={`${id}-progress`} max={100} value={pct} aria-valuetext={`${pct} %`} />
          <span data-testid="upload-percent" aria-live="polite">
            {pct} %
          </span>
        </div>
      )}
      {result && (
        <p role="status" className="ok">
          Uploaded {result.name}: {formatBytes(result.size)}, SHA-256 {result.sha256}.
        </p>
      )}
      {cancelled && (
        <p role="status" data-testid="upload-cancelled">
          Upload cancelled: {shown ? 'the file above is still the one stored.' : 'no file was stored.'}
        </p>
      )}
      {error !== undefined && <ErrorBox error={errorText(error)} title="Upload failed" />}
    </section>
  );
}
