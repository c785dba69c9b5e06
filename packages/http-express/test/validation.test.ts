import { RequestValidator } from '../src/validation';

// The request validator names the field a person can fix: for a nullable object
// (`oneOf: [{type: null}, X]`) the wrong field inside X, not the null branch's "must be null".
const validator = new RequestValidator();

describe('RequestValidator messages of nullable objects', () => {
  test.each([
    [
      'SoftwareCreate',
      { version: '1.0.0', rolloutStrategy: 'general', phaseGate: { maxFailureRate: 1.5, minReports: 5 } },
      'phaseGate.maxFailureRate',
      'must be <= 1',
    ],
    ['SoftwareCreate', { version: '1.0.0', rolloutStrategy: 'general', phaseGate: { maxFailureRate: 0.5 } }, 'phaseGate.minReports', 'is required'],
    [
      'SoftwareReplace',
      { rolloutStrategy: 'general', phases: [{ percent: 50, soakMinutes: 1.5 }, { percent: 100 }] },
      'phases[0].soakMinutes',
      'must be integer',
    ],
    [
      'SoftwareReplace',
      { rolloutStrategy: 'general', maintenanceWindow: { timeZone: 'UTC', start: '25:00', end: '04:00' } },
      'maintenanceWindow.start',
      'must match pattern',
    ],
    [
      'SoftwareReplace',
      { rolloutStrategy: 'general', failurePolicy: { maxFailureRate: 0.1, minReports: 10, extra: 1 } },
      'failurePolicy.extra',
      'unknown field',
    ],
  ])('%s %j -> %s', (schema, body, field, words) => {
    const r = validator.check(schema, body);
    expect(r?.field).toBe(field);
    expect(r?.message).toMatch(new RegExp(`^${field.replace(/[[\].]/g, '\\$&')}: ${words}`));
  });

  test('a nullable object of the wrong type is named by the type it must have, not "must be null"', () => {
    const r = validator.check('SoftwareCreate', { version: '1.0.0', rolloutStrategy: 'general', phaseGate: 'strict' });
    expect(r).toEqual({ field: 'phaseGate', message: 'phaseGate: must be object' });
  });

  test('null is accepted where the field is nullable', () => {
    expect(validator.check('SoftwareCreate', { version: '1.0.0', rolloutStrategy: 'general', phaseGate: null, phases: null })).toBeUndefined();
  });
});
