import { join } from 'node:path';
import { freePort, serviceBinDir, ServiceProcess, tempDir } from './process';

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  readonly process: ServiceProcess;
  stop(): Promise<void>;
}

/** Starts a real nats-server on a free 127.0.0.1 port (or the given one). */
export async function startNats(options: { port?: number; maxPayload?: number } = {}): Promise<NatsServer> {
  const port = options.port ?? (await freePort());
  const dir = tempDir('nats');
  const args = ['-a', '127.0.0.1', '-p', String(port), '--no_advertise'];
  if (options.maxPayload !== undefined) args.push('--max_payload', String(options.maxPayload));
  const proc = new ServiceProcess('nats-server', join(serviceBinDir(), 'nats-server'), args, port, join(dir, 'nats.log'));
  await proc.start();
  return { url: `nats://127.0.0.1:${port}`, port, process: proc, stop: () => proc.stop() };
}
