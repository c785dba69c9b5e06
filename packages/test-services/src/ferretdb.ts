import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, serviceBinDir, ServiceProcess, tempDir } from './process';

export interface FerretDB {
  /** mongodb://127.0.0.1:<port>/ */
  readonly uri: string;
  readonly port: number;
  readonly dataDir: string;
  readonly process: ServiceProcess;
  stop(): Promise<void>;
}

/**
 * Starts FerretDB v1.24.2 with its SQLite backend, data in a temporary folder, on a free port.
 * `dataDir` may be given to restart on existing data.
 */
export async function startFerretDB(options: { port?: number; dataDir?: string } = {}): Promise<FerretDB> {
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? tempDir('ferretdb');
  mkdirSync(join(dataDir, 'sqlite'), { recursive: true });
  const args = [
    '--handler=sqlite',
    `--sqlite-url=file:${join(dataDir, 'sqlite')}/`,
    `--listen-addr=127.0.0.1:${port}`,
    `--state-dir=${dataDir}`,
    '--telemetry=disable',
    '--log-level=warn',
    '--debug-addr=-',
  ];
  const proc = new ServiceProcess('ferretdb', join(serviceBinDir(), 'ferretdb'), args, port, join(dataDir, 'ferretdb.log'));
  await proc.start();
  return { uri: `mongodb://127.0.0.1:${port}/`, port, dataDir, process: proc, stop: () => proc.stop() };
}
