import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The OpenAPI 3.1 document of the whole API: `packages/http-express/openapi.json`, served as is. */
export const OPENAPI_PATH = join(__dirname, '..', 'openapi.json');
export const OPENAPI_TEXT = readFileSync(OPENAPI_PATH, 'utf8');
export const OPENAPI_DOCUMENT: unknown = JSON.parse(OPENAPI_TEXT);
