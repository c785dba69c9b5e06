import fc from 'fast-check';
import { compareVersions, isStrictSemver, matches, MAX_VERSION_LENGTH, parseInputMatcher, parseMatcher, sameVersion, type VersionMatcher } from './version';

function matcher(entry: string): VersionMatcher {
  const m = parseMatcher(entry);
  if (!m) throw new Error(`expected ${entry} to parse`);
  return m;
}

/** Arbitrary strict SemVer versions. */
const numId = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1_000_000 }));
const alnumId = fc.stringMatching(/^[0-9]*[a-zA-Z-][0-9a-zA-Z-]{0,5}$/);
const preId = fc.oneof(numId.map(String), alnumId);
const buildId = fc.stringMatching(/^[0-9a-zA-Z-]{1,6}$/);
const semverArb = fc
  .tuple(numId, numId, numId, fc.option(fc.array(preId, { minLength: 1, maxLength: 3 })), fc.option(fc.array(buildId, { minLength: 1, maxLength: 3 })))
  .map(([a, b, c, pre, build]) => `${a}.${b}.${c}${pre ? `-${pre.join('.')}` : ''}${build ? `+${build.join('.')}` : ''}`);

describe('isStrictSemver', () => {
  test.each([
    '0.0.0',
    '0.0.4',
    '1.2.3',
    '10.20.30',
    '1.1.2-prerelease+meta',
    '1.1.2+meta',
    '1.1.2+meta-valid',
    '1.0.0-alpha',
    '1.0.0-beta',
    '1.0.0-alpha.beta',
    '1.0.0-alpha.beta.1',
    '1.0.0-alpha.1',
    '1.0.0-alpha0.valid',
    '1.0.0-alpha.0valid',
    '1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay',
    '1.0.0-rc.1+build.1',
    '2.0.0-rc.1+build.123',
    '1.2.3-beta',
    '10.2.3-DEV-SNAPSHOT',
    '1.2.3-SNAPSHOT-123',
    '2.0.0+build.1848',
    '2.0.1-alpha.1227',
    '1.0.0-alpha+beta',
    '1.2.3----RC-SNAPSHOT.12.9.1--.12+788',
    '1.2.3----R-S.12.9.1--.12+meta',
    '1.2.3----RC-SNAPSHOT.12.9.1--.12',
    '1.0.0+0.build.1-rc.10000aaa-kk-0.1',
    '1.0.0-0A.is.legal',
    '1.0.0+01',
    '1.0.0-0',
  ])('accepts %s (semver.org valid list)', (v) => {
    expect(isStrictSemver(v)).toBe(true);
  });

  test.each([
    '1',
    '1.2',
    '1.2.3-0123',
    '1.2.3-0123.0123',
    '1.1.2+.123',
    '+invalid',
    '-invalid',
    '-invalid+invalid',
    '-invalid.01',
    'alpha',
    'alpha.beta',
    'alpha.beta.1',
    'alpha.1',
    'alpha+beta',
    'alpha_beta',
    'alpha.',
    'alpha..',
    'beta',
    '1.0.0-alpha_beta',
    '-alpha.',
    '1.0.0-alpha..',
    '1.0.0-alpha..1',
    '1.0.0-alpha...1',
    '1.0.0-alpha....1',
    '1.0.0-alpha.....1',
    '1.0.0-alpha......1',
    '1.0.0-alpha.......1',
    '01.1.1',
    '1.01.1',
    '1.1.01',
    '1.2',
    '1.2.3.DEV',
    '1.2-SNAPSHOT',
    '1.2.31.2.3----RC-SNAPSHOT.12.09.1--..12+788',
    '1.2-RC-SNAPSHOT',
    '-1.0.3-gamma+b7718',
    '+justmeta',
    '9.8.7+meta+meta',
    '9.8.7-whatever+meta+meta',
    '99999999999999999999999.999999999999999999.99999999999999999----RC-SNAPSHOT.12.09.1--------------------------------..12',
    'v1.0.0',
    'V1.0.0',
    '=1.0.0',
    ' 1.0.0',
    '1.0.0 ',
    '1.0.0\n',
    '1.0.0-01',
    '1.0.0-',
    '1.0.0+',
    '',
    '1.x',
    '^1.0.0',
    '１.０.０',
  ])('rejects %j (semver.org invalid list and loose forms)', (v) => {
    expect(isStrictSemver(v)).toBe(false);
  });

  test.each([1, 1.0, null, undefined, {}, ['1.0.0'], true, Symbol('1.0.0'), BigInt(1)])('rejects the non-string %p', (v) => {
    expect(isStrictSemver(v)).toBe(false);
  });

  test('rejects major/minor/patch above Number.MAX_SAFE_INTEGER (semver.valid rejects them; comparing them would throw)', () => {
    expect(isStrictSemver('9007199254740991.9007199254740991.9007199254740991')).toBe(true);
    for (const v of ['9007199254740992.0.0', '0.9007199254740992.0', '0.0.9007199254740992', '99999999999999999999999.999999999999999999.99999999999999999']) {
      expect(isStrictSemver(v)).toBe(false);
    }
    // large numeric prerelease identifiers are accepted and comparing them does not throw
    expect(isStrictSemver('1.0.0-99999999999999999999')).toBe(true);
    expect(() => compareVersions('1.0.0-99999999999999999999', '1.0.0-1')).not.toThrow();
    expect(compareVersions('1.0.0-99999999999999999999', '1.0.0-1')).toBeGreaterThan(0);
  });

  test('whatever it accepts can be compared without throwing (including huge numbers)', () => {
    const bigNum = fc.oneof(numId.map(String), fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String));
    fc.assert(
      fc.property(bigNum, bigNum, bigNum, fc.option(bigNum), (a, b, c, pre) => {
        const v = `${a}.${b}.${c}${pre === null ? '' : `-${pre}`}`;
        if (isStrictSemver(v)) {
          expect(() => compareVersions(v, '1.0.0')).not.toThrow();
          expect(() => matches({ kind: 'exact', source: v }, '1.0.0')).not.toThrow();
          expect(() => matches(matcher('^1.0.0'), v)).not.toThrow();
        }
      }),
    );
  });

  test('enforces the maximum length', () => {
    const atMax = `1.0.0+${'b'.repeat(MAX_VERSION_LENGTH - 6)}`;
    expect(atMax).toHaveLength(MAX_VERSION_LENGTH);
    expect(isStrictSemver(atMax)).toBe(true);
    expect(isStrictSemver(`${atMax}b`)).toBe(false);
  });

  // Work done, not time: no pattern (the grammar's, or semver's) ever sees input beyond the length
  // bound, so the cost of a check is bounded by MAX_VERSION_LENGTH whatever the input.
  test('long adversarial input is rejected by the length bound before any pattern looks at it', () => {
    const test = jest.spyOn(RegExp.prototype, 'test');
    const exec = jest.spyOn(RegExp.prototype, 'exec');
    try {
      expect(isStrictSemver(`1.0.0-${'0a'.repeat(1_000_000)}!`)).toBe(false);
      expect(isStrictSemver(`1.0.0+${'b'.repeat(MAX_VERSION_LENGTH)}`)).toBe(false);
      const inputs = [...test.mock.calls, ...exec.mock.calls].map(([s]) => String(s));
      expect(Math.max(0, ...inputs.map((s) => s.length))).toBeLessThanOrEqual(MAX_VERSION_LENGTH);
    } finally {
      test.mockRestore();
      exec.mockRestore();
    }
  });

  test.each([
    ['numeric and alphanumeric identifiers that almost fit', `1.0.0-${'1'.repeat(120)}-${'1'.repeat(120)}!`],
    ['dot-separated identifiers ending in an empty one', `1.0.0-${'1a.'.repeat(83)}.`],
    ['leading zeros after a long run', `1.0.0-${'0'.repeat(248)}1`],
    ['build metadata ending in a forbidden character', `1.0.0+${'a-'.repeat(124)}_`],
  ])('pathological input at the length bound terminates with the right answer (%s)', (_what, v) => {
    expect(v.length).toBeLessThanOrEqual(MAX_VERSION_LENGTH);
    expect(isStrictSemver(v)).toBe(false);
  });

  test('accepts every generated strict version of at most the maximum length', () => {
    fc.assert(
      fc.property(semverArb, (v) => {
        expect(isStrictSemver(v)).toBe(v.length <= MAX_VERSION_LENGTH);
      }),
    );
  });

  test('a v prefix, padding or a leading zero always makes a generated version invalid', () => {
    fc.assert(
      fc.property(semverArb, fc.constantFrom('v', ' ', '0', '=', '\t'), (v, prefix) => {
        expect(isStrictSemver(prefix + v)).toBe(false);
      }),
    );
  });
});

describe('parseInputMatcher (upgradableFrom on input, spec §2)', () => {
  test.each([
    '1.0.0',
    '1.0.0-rc.1+build',
    '>=1.2.0 <2.0.0',
    '^1.0.0',
    '~1.2.3',
    '1.x',
    '1.2.X',
    '1.*',
    '1',
    '1.2',
    '*',
    'x',
    '<2.0.0',
    '<=2.0.0',
    '>1.0.0',
    '1.0.0 - 2.0.0',
    '<1.0.0 || >=2.0.0',
    '1.0.0||2.0.0',
    '>=1.0.0  <2.0.0',
    '>=1.0.0-alpha <1.0.0',
    '^0.0.1',
  ])('accepts the strictly written %j', (e) => {
    const r = parseInputMatcher(e);
    expect(r.ok && r.matcher.source).toBe(e);
  });

  test.each(['v1.0.0', '=1.0.0', '= 1.0.0', '>=v1.0.0', '>= 1.0.0', '~>1.2', '^v1', 'v1.x', '1.0.0 - v2.0.0', '=1.0.0 || 2.x', '>=1.0.0 =1.2.3'])(
    'rejects %j, which semver reads in its non-loose mode, as a loose spelling',
    (e) => {
      expect(parseMatcher(e)?.kind).toBe('range');
      expect(parseInputMatcher(e)).toEqual({ ok: false, loose: true });
    },
  );

  test.each(['', 'V1.0.0', 'foo', '01.0.0', '>=01.0.0', ' 1.0.0', '1.0.0 <', '!1.0.0'])('rejects %j as neither a version nor a range', (e) => {
    expect(parseInputMatcher(e)).toEqual({ ok: false, loose: false });
  });

  test('every generated strict version is accepted as exact, and behind each operator as a range', () => {
    fc.assert(
      fc.property(
        semverArb.filter((v) => v.length < MAX_VERSION_LENGTH - 2),
        fc.constantFrom('', '<', '<=', '>', '>=', '~', '^'),
        (v, op) => {
          const r = parseInputMatcher(op + v);
          expect(r.ok).toBe(true);
          expect(r.ok && r.matcher.kind).toBe(op === '' ? 'exact' : 'range');
        },
      ),
    );
  });

  test('a v prefix or an = operator before any generated version is a loose spelling', () => {
    fc.assert(
      fc.property(
        semverArb.filter((v) => v.length < MAX_VERSION_LENGTH - 4),
        fc.constantFrom('v', '=', '>=v', '= ', '~>'),
        (v, prefix) => {
          expect(parseInputMatcher(prefix + v)).toEqual({ ok: false, loose: true });
        },
      ),
    );
  });
});

describe('parseMatcher', () => {
  test.each(['1.0.0', '0.0.0', '1.0.0-rc.1', '1.0.0+build', '1.0.0-rc.1+build'])('parses the strict version %s as exact', (v) => {
    expect(parseMatcher(v)).toEqual({ kind: 'exact', source: v });
  });

  test.each([
    '>=1.2.0 <2.0.0',
    '^1.0.0',
    '~1.2.3',
    '1.x',
    '1.2.x',
    '1',
    '1.2',
    '*',
    'x',
    '<2.0.0',
    '>1.0.0',
    '=1.0.0',
    '1.0.0 - 2.0.0',
    '<1.0.0 || >=2.0.0',
    '>=1.0.0-alpha <1.0.0',
    '^0.0.1',
  ])('parses %j as a range', (r) => {
    const m = parseMatcher(r);
    expect(m).toBeDefined();
    expect(m?.kind).toBe('range');
    expect(m?.source).toBe(r);
  });

  test.each([
    '',
    ' ',
    'foo',
    'latest',
    '1.0.0.0',
    '01.0.0',
    '1.0.0-01',
    '>=01.0.0',
    ' 1.0.0',
    '1.0.0 ',
    ' ^1.0.0',
    '^1.0.0\n',
    '\t1.x',
    '>= foo',
    '1.0.0 <',
    '!1.0.0',
    '1.0.0-',
  ])('rejects %j', (e) => {
    expect(parseMatcher(e)).toBeUndefined();
  });

  test.each([1, null, undefined, {}, ['1.0.0'], true])('rejects the non-string %p', (e) => {
    expect(parseMatcher(e)).toBeUndefined();
  });

  test('rejects entries longer than the maximum', () => {
    expect(parseMatcher(`1.0.0-${'a'.repeat(MAX_VERSION_LENGTH)}`)).toBeUndefined();
    expect(parseMatcher(`>=1.0.0${' <2.0.0'.repeat(50)}`)).toBeUndefined();
  });

  test('every strict version parses as exact', () => {
    fc.assert(
      fc.property(semverArb, (v) => {
        fc.pre(v.length <= MAX_VERSION_LENGTH);
        expect(parseMatcher(v)).toEqual({ kind: 'exact', source: v });
      }),
    );
  });

  test('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.anything()), (s) => {
        const m = parseMatcher(s);
        if (m) expect(typeof m.source).toBe('string');
      }),
    );
  });
});

describe('matches', () => {
  describe('exact', () => {
    test('matches the same version', () => {
      expect(matches(matcher('1.2.3'), '1.2.3')).toBe(true);
      expect(matches(matcher('1.2.3-rc.1'), '1.2.3-rc.1')).toBe(true);
    });

    test('matches by precedence, ignoring build metadata on either side', () => {
      expect(matches(matcher('1.2.3'), '1.2.3+build.5')).toBe(true);
      expect(matches(matcher('1.2.3+a'), '1.2.3')).toBe(true);
      expect(matches(matcher('1.2.3+a'), '1.2.3+b')).toBe(true);
      expect(matches(matcher('1.2.3-rc.1+a'), '1.2.3-rc.1+b')).toBe(true);
    });

    test.each([
      ['1.2.3', '1.2.4'],
      ['1.2.3', '1.2.3-rc.1'],
      ['1.2.3-rc.1', '1.2.3'],
      ['1.2.3-rc.1', '1.2.3-rc.2'],
      ['1.2.3-rc.1', '1.2.3-RC.1'],
      ['1.2.3', '2.2.3'],
      ['0.0.1', '0.0.10'],
    ])('%s does not match %s', (e, v) => {
      expect(matches(matcher(e), v)).toBe(false);
    });

    test('is exactly "same precedence" on generated versions', () => {
      fc.assert(
        fc.property(semverArb, semverArb, (a, b) => {
          expect(matches({ kind: 'exact', source: a }, b)).toBe(compareVersions(a, b) === 0);
          expect(matches({ kind: 'exact', source: a }, a)).toBe(true);
        }),
      );
    });
  });

  describe('range', () => {
    test.each([
      ['>=1.2.0 <2.0.0', '1.2.0', true],
      ['>=1.2.0 <2.0.0', '1.9.99', true],
      ['>=1.2.0 <2.0.0', '1.5.0+build', true],
      ['>=1.2.0 <2.0.0', '2.0.0', false],
      ['>=1.2.0 <2.0.0', '1.1.9', false],
      ['>=1.2.0 <2.0.0', '2.0.0-rc.1', false],
      ['>=1.2.0 <2.0.0', '1.5.0-beta', false],
      ['^1.0.0', '1.0.0', true],
      ['^1.0.0', '1.99.0', true],
      ['^1.0.0', '2.0.0', false],
      ['^1.0.0', '0.9.0', false],
      ['^1.0.0', '1.1.0-alpha', false],
      ['^0.2.3', '0.2.9', true],
      ['^0.2.3', '0.3.0', false],
      ['~1.2.3', '1.2.9', true],
      ['~1.2.3', '1.3.0', false],
      ['1.x', '1.0.0', true],
      ['1.x', '1.7.3', true],
      ['1.x', '2.0.0', false],
      ['1.x', '0.9.9', false],
      ['1.x', '1.2.0-beta', false],
      ['1.2.x', '1.2.7', true],
      ['1.2.x', '1.3.0', false],
      ['*', '0.0.0', true],
      ['*', '99.0.0', true],
      ['*', '1.0.0-alpha', false],
      ['<1.0.0 || >=2.0.0', '0.5.0', true],
      ['<1.0.0 || >=2.0.0', '1.5.0', false],
      ['<1.0.0 || >=2.0.0', '3.0.0', true],
      ['1.0.0 - 2.0.0', '2.0.0', true],
      ['1.0.0 - 2.0.0', '2.0.1', false],
      ['=1.0.0', '1.0.0+b', true],
    ])('%j vs %s -> %p', (r, v, expected) => {
      expect(matches(matcher(r), v)).toBe(expected);
    });

    test('prereleases match only when the range names a prerelease of the same major.minor.patch', () => {
      const r = matcher('>=1.2.0-beta.1 <2.0.0');
      expect(matches(r, '1.2.0-beta.1')).toBe(true);
      expect(matches(r, '1.2.0-beta.2')).toBe(true);
      expect(matches(r, '1.2.0-rc.1')).toBe(true);
      expect(matches(r, '1.2.0-alpha')).toBe(false); // below the bound
      expect(matches(r, '1.3.0-beta.1')).toBe(false); // another tuple: excluded
      expect(matches(r, '1.2.0')).toBe(true);
      expect(matches(r, '1.5.0')).toBe(true);
    });

    test('no generated prerelease matches a range that names none', () => {
      fc.assert(
        fc.property(semverArb, fc.constantFrom('*', '>=0.0.0', '<999999999.0.0', '0.x || >=0.0.0', '>0.0.0'), (v, r) => {
          fc.pre(v.includes('-') && v.indexOf('-') < (v.includes('+') ? v.indexOf('+') : Infinity));
          expect(matches(matcher(r), v)).toBe(false);
        }),
      );
    });

    test('every generated release version matches *', () => {
      fc.assert(
        fc.property(fc.tuple(numId, numId, numId), ([a, b, c]) => {
          expect(matches(matcher('*'), `${a}.${b}.${c}`)).toBe(true);
        }),
      );
    });
  });
});

describe('compareVersions / sameVersion', () => {
  test('follows the semver.org precedence example', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.1.0',
      '1.10.0',
      '2.0.0',
      '10.0.0',
    ];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        const c = compareVersions(ordered[i] as string, ordered[j] as string);
        expect(Math.sign(c)).toBe(Math.sign(i - j));
      }
    }
    const shuffled = [...ordered].reverse();
    expect(shuffled.sort(compareVersions)).toEqual(ordered);
  });

  test('numeric identifiers compare numerically, not lexically', () => {
    expect(compareVersions('1.0.0-2', '1.0.0-10')).toBeLessThan(0);
    expect(compareVersions('0.9.0', '0.10.0')).toBeLessThan(0);
    expect(compareVersions('1.0.0-10', '1.0.0-alpha')).toBeLessThan(0);
  });

  test('ignores build metadata', () => {
    expect(compareVersions('1.0.0+a', '1.0.0+b')).toBe(0);
    expect(compareVersions('1.0.0', '1.0.0+b')).toBe(0);
    expect(sameVersion('1.0.0+a', '1.0.0+b')).toBe(true);
    expect(sameVersion('1.0.0-rc.1+x', '1.0.0-rc.1')).toBe(true);
    expect(sameVersion('1.0.0', '1.0.1')).toBe(false);
    expect(sameVersion('1.0.0-rc.1', '1.0.0')).toBe(false);
  });

  test('is antisymmetric and reflexive on generated versions', () => {
    fc.assert(
      fc.property(semverArb, semverArb, (a, b) => {
        expect(compareVersions(a, a)).toBe(0);
        expect(Math.sign(compareVersions(a, b))).toBe(-Math.sign(compareVersions(b, a)) || 0); // `|| 0`: -0 is not 0 for toBe (equal precedence, e.g. 1.0.0+a and 1.0.0+b)
        expect(sameVersion(a, b)).toBe(compareVersions(a, b) === 0);
      }),
    );
  });

  test('is transitive on generated versions', () => {
    fc.assert(
      fc.property(fc.array(semverArb, { minLength: 3, maxLength: 3 }), (vs) => {
        const [a, b, c] = [...vs].sort(compareVersions) as [string, string, string];
        expect(compareVersions(a, b)).toBeLessThanOrEqual(0);
        expect(compareVersions(b, c)).toBeLessThanOrEqual(0);
        expect(compareVersions(a, c)).toBeLessThanOrEqual(0);
      }),
    );
  });
});
