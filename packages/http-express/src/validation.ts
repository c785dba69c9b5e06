import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { OPENAPI_DOCUMENT } from './openapi';

/** Validators compiled once from the OpenAPI document's component schemas. */
export class RequestValidator {
  private readonly ajv: Ajv2020;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor() {
    this.ajv = new Ajv2020({ allErrors: false, strict: false, validateFormats: true });
    addFormats(this.ajv);
    this.ajv.addSchema(OPENAPI_DOCUMENT as object, 'openapi.json');
  }

  /** Validates `value` against `#/components/schemas/<name>`; returns a message naming the field, or undefined. */
  check(schemaName: string, value: unknown): { field: string; message: string } | undefined {
    let v = this.cache.get(schemaName);
    if (!v) {
      v = this.ajv.compile({ $ref: `openapi.json#/components/schemas/${schemaName}` });
      this.cache.set(schemaName, v);
    }
    if (v(value)) return undefined;
    const e = mostSpecific(v.errors ?? []);
    return e ? describe(e) : { field: '(body)', message: 'is invalid' };
  }
}

/**
 * The error to report. A nullable field is `oneOf: [{type: null}, X]`, and ajv lists the null
 * branch's "must be null" first: the deepest error (the field inside X that is wrong) is the one a
 * person can act on; among equally deep ones, an error of the null branch or the `oneOf`/`anyOf`
 * summary comes last.
 */
function mostSpecific(errors: readonly ErrorObject[]): ErrorObject | undefined {
  const depth = (e: ErrorObject): number => e.instancePath.split('/').length;
  const weak = (e: ErrorObject): boolean =>
    e.keyword === 'oneOf' || e.keyword === 'anyOf' || (e.keyword === 'type' && (e.params as { type?: unknown }).type === 'null');
  let best: ErrorObject | undefined;
  for (const e of errors) {
    if (!best || depth(e) > depth(best) || (depth(e) === depth(best) && weak(best) && !weak(e))) best = e;
  }
  return best;
}

/** `/filters/1/filterId` -> `filters[1].filterId` */
export function fieldOf(instancePath: string, extra?: string): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  let out = '';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out === '' ? p : `.${p}`;
  return out === '' ? '(body)' : out;
}

function describe(e: ErrorObject): { field: string; message: string } {
  switch (e.keyword) {
    case 'additionalProperties': {
      const field = fieldOf(e.instancePath, String((e.params as { additionalProperty: string }).additionalProperty));
      return { field, message: `${field}: unknown field` };
    }
    case 'required': {
      const field = fieldOf(e.instancePath, String((e.params as { missingProperty: string }).missingProperty));
      return { field, message: `${field}: is required` };
    }
    default: {
      const field = fieldOf(e.instancePath);
      return { field, message: `${field}: ${e.message ?? 'is invalid'}` };
    }
  }
}
