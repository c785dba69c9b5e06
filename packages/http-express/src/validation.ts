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
    const e = (v.errors ?? [])[0];
    return e ? describe(e) : { field: '(body)', message: 'is invalid' };
  }
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
