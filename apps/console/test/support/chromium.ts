import { existsSync } from 'node:fs';

/** Debian's chromium (installed by scripts/services/ensure-chromium.sh), or CHROMIUM_PATH. */
export function chromiumPath(): string {
  const candidates = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`no chromium found (tried ${candidates.join(', ')}): run bash scripts/services/ensure-chromium.sh`);
  return found;
}
