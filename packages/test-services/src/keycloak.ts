import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { freePort, ServiceProcess, tempDir } from './process';

/** The Keycloak version `scripts/services/ensure-keycloak.sh` installs unless told otherwise. */
export const KEYCLOAK_VERSION = '26.7.3';

/** Resource type of OTAO's application resources in Keycloak Authorization Services. */
export const OTAO_RESOURCE_TYPE = 'urn:otao:application';
/** The software scopes of an application resource (spec §8). */
export const OTAO_SCOPES = ['application:software:read', 'application:software:update', 'application:software:delete'] as const;
export type OtaoScope = (typeof OTAO_SCOPES)[number];

/** What a test user may do, application name → scopes. */
export type Grants = Readonly<Record<string, readonly OtaoScope[]>>;

export interface KeycloakUserSpec {
  readonly username: string;
  readonly password: string;
  /** What the user may do per application (resource `application-{name}`). */
  readonly grants: Grants;
}

/**
 * A confidential client with a service account (client-credentials grant), e.g. a CI pipeline's
 * `otao` CLI: its service-account user gets the roles that give `grants`.
 */
export interface KeycloakServiceClientSpec {
  readonly clientId: string;
  /** What the service account may do per application (resource `application-{name}`). */
  readonly grants: Grants;
}

const ALL: readonly OtaoScope[] = OTAO_SCOPES;

/** The service clients every realm gets unless `options.serviceClients` says otherwise: `otao-ci`, all scopes on kettle. */
export const DEFAULT_KEYCLOAK_SERVICE_CLIENTS: readonly KeycloakServiceClientSpec[] = [{ clientId: 'otao-ci', grants: { kettle: ALL } }];

/** The users every realm gets unless `options.users` says otherwise. */
export const DEFAULT_KEYCLOAK_USERS: readonly KeycloakUserSpec[] = [
  { username: 'admin', password: 'admin-pass', grants: { kettle: ALL, toaster: ALL } },
  { username: 'reader', password: 'reader-pass', grants: { kettle: ['application:software:read'] } },
  { username: 'nobody', password: 'nobody-pass', grants: {} },
  { username: 'toaster-admin', password: 'toaster-admin-pass', grants: { toaster: ALL } },
];

export interface KeycloakOptions {
  /** Realms to create, one per tenant. Default `['tenant-a', 'tenant-b']`. */
  readonly realms?: readonly string[];
  /** Applications (resources `application-{name}`) in every realm. Default `['kettle', 'toaster']`. */
  readonly applications?: readonly string[];
  /** Users in every realm. Default {@link DEFAULT_KEYCLOAK_USERS}. */
  readonly users?: readonly KeycloakUserSpec[];
  /** Confidential clients with a service account in every realm (own secret per realm). Default {@link DEFAULT_KEYCLOAK_SERVICE_CLIENTS}. */
  readonly serviceClients?: readonly KeycloakServiceClientSpec[];
  /** Keycloak version (must be installable by ensure-keycloak.sh). Default {@link KEYCLOAK_VERSION} or $OTAO_KEYCLOAK_VERSION. */
  readonly version?: string;
  /** A Java 21+ home. Default $OTAO_KEYCLOAK_JAVA_HOME, else the first Temurin/OpenJDK 25 or 21 under /usr/lib/jvm. */
  readonly javaHome?: string;
  /** HTTP port on 127.0.0.1. Default: a free one. */
  readonly port?: number;
  /** Maximum heap. Default `512m`. */
  readonly maxHeap?: string;
  /** Milliseconds to wait for Keycloak to become ready. Default 180 000. */
  readonly readyTimeoutMs?: number;
  /** Access token lifespan of the test realms, seconds. Default 1800. */
  readonly accessTokenLifespanSeconds?: number;
  /** Progress lines on stderr. Default true. */
  readonly verbose?: boolean;
}

/** A token endpoint answer that was not 200. */
export class KeycloakTokenError extends Error {
  constructor(
    readonly status: number,
    readonly body: Readonly<Record<string, unknown>>,
  ) {
    super(
      `Keycloak token endpoint answered ${status}: ${typeof body['error'] === 'string' ? body['error'] : ''} ${typeof body['error_description'] === 'string' ? body['error_description'] : ''}`.trim(),
    );
    this.name = 'KeycloakTokenError';
  }
}

export interface TokenResponse {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

export interface Keycloak {
  /** Base URL, e.g. http://127.0.0.1:PORT (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** The management interface port (health: `/health/ready`). */
  readonly managementPort: number;
  readonly version: string;
  readonly realms: readonly string[];
  readonly applications: readonly string[];
  readonly users: readonly KeycloakUserSpec[];
  /** The confidential resource-server client (`otao`): service accounts + Authorization Services. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** The public client with direct access grants (password grant) the tests use: `otao-cli`. */
  readonly cliClientId: string;
  /** The confidential service-account clients of every realm (default `otao-ci`). */
  readonly serviceClients: readonly KeycloakServiceClientSpec[];
  /** The secret of a service client in a realm (random per realm and start). */
  serviceClientSecret(realm: string, clientId: string): string;
  /** Master realm administrator (bootstrap admin). */
  readonly adminUsername: string;
  readonly adminPassword: string;
  readonly process: ServiceProcess;
  readonly dataDir: string;
  readonly logFile: string;
  /** `{url}/realms/{realm}` — the `iss` of the realm's tokens. */
  issuer(realm: string): string;
  tokenEndpoint(realm: string): string;
  jwksUri(realm: string): string;
  /** Password grant through `otao-cli`: the user's access token (aud includes `otao`). */
  passwordToken(realm: string, username: string): Promise<string>;
  /** UMA ticket grant for audience `otao`: a requesting-party token with `authorization.permissions`. Throws {@link KeycloakTokenError} (403 `access_denied`) when the user has no permission at all. */
  rptToken(realm: string, username: string): Promise<string>;
  /** UMA decision (`response_mode=decision`) for `resource#scope`: true when granted, false on 403. */
  umaDecision(realm: string, accessToken: string, resource: string, scope: string): Promise<boolean>;
  /** Client-credentials token of the `otao` client, or of a service client when `clientId` is given. */
  clientCredentialsToken(realm: string, clientId?: string): Promise<string>;
  /** Any form POST to the realm's token endpoint, answer as is. */
  tokenRequest(realm: string, params: Readonly<Record<string, string>>, bearer?: string): Promise<TokenResponse>;
  /** An admin access token of the master realm (for the Admin REST API under `{url}/admin/realms`). */
  adminToken(): Promise<string>;
  /** Stops Keycloak (SIGTERM, SIGKILL after 5 s) and deletes its data directory. */
  stop(): Promise<void>;
}

const REPO_ROOT = resolve(__dirname, '../../..');

function log(verbose: boolean, msg: string): void {
  if (verbose) process.stderr.write(`[keycloak] ${msg}\n`);
}

function cacheDir(): string {
  return process.env['OTAO_CACHE_DIR'] ?? join(process.env['HOME'] ?? tmpdir(), '.cache', 'otao');
}

/** A Java 21+ home for Keycloak. */
export function keycloakJavaHome(explicit?: string): string {
  const candidates = [
    explicit,
    process.env['OTAO_KEYCLOAK_JAVA_HOME'],
    '/usr/lib/jvm/temurin-25-jdk-amd64',
    '/usr/lib/jvm/temurin-21-jdk-amd64',
    '/usr/lib/jvm/java-25-openjdk-amd64',
    '/usr/lib/jvm/java-21-openjdk-amd64',
  ];
  for (const c of candidates) if (c && existsSync(join(c, 'bin', 'java'))) return c;
  throw new Error('no Java 21+ found for Keycloak (set OTAO_KEYCLOAK_JAVA_HOME)');
}

/** The Keycloak home (installed and built by scripts/services/ensure-keycloak.sh when missing). */
export function keycloakHome(version: string = process.env['OTAO_KEYCLOAK_VERSION'] ?? KEYCLOAK_VERSION, javaHome?: string): string {
  const home = join(cacheDir(), `keycloak-${version}`);
  const jh = keycloakJavaHome(javaHome);
  const cds = cdsArchive(home, jh);
  const wantCds = process.env['OTAO_KEYCLOAK_CDS'] !== '0' && !existsSync(cds) && !existsSync(`${cds}.failed`);
  if (!existsSync(join(home, '.otao-built')) || wantCds) {
    execFileSync('bash', [join(REPO_ROOT, 'scripts/services/ensure-keycloak.sh'), version], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, OTAO_KEYCLOAK_JAVA_HOME: jh },
    });
  }
  if (!existsSync(join(home, '.otao-built'))) throw new Error(`ensure-keycloak.sh did not install Keycloak into ${home}`);
  return home;
}

function cdsArchive(home: string, javaHome: string): string {
  return join(home, `otao-cds-${basename(javaHome)}.jsa`);
}

/** The JVM command line of `kc.sh start --optimized` (kc.sh's own defaults), run without the shell wrapper so that signals reach the JVM itself. */
function javaArgs(home: string, javaHome: string, maxHeap: string, dataDir: string, kcArgs: readonly string[]): string[] {
  const cds = cdsArchive(home, javaHome);
  return [
    '-Djava.util.concurrent.ForkJoinPool.common.threadFactory=io.quarkus.bootstrap.forkjoin.QuarkusForkJoinWorkerThreadFactory',
    '-XX:MetaspaceSize=96M',
    '-XX:MaxMetaspaceSize=256m',
    '-Dfile.encoding=UTF-8',
    '-Dsun.stdout.encoding=UTF-8',
    '-Dsun.err.encoding=UTF-8',
    '-Dstdout.encoding=UTF-8',
    '-Dstderr.encoding=UTF-8',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.security.egd=file:/dev/urandom',
    '-XX:+UseG1GC',
    '-Xms64m',
    `-Xmx${maxHeap}`,
    // Start-up over peak throughput: C1 only, and the class-data archive ensure-keycloak.sh recorded.
    '-XX:TieredStopAtLevel=1',
    ...(existsSync(cds) && process.env['OTAO_KEYCLOAK_CDS'] !== '0' ? [`-XX:SharedArchiveFile=${cds}`, '-Xshare:auto', '-Xlog:cds=off', '-Xlog:aot=off'] : []),
    '--add-opens=java.base/java.util=ALL-UNNAMED',
    '--add-opens=java.base/java.util.concurrent=ALL-UNNAMED',
    '--add-opens=java.base/java.security=ALL-UNNAMED',
    '--add-opens=java.base/java.lang=ALL-UNNAMED',
    '--enable-native-access=ALL-UNNAMED',
    '-Duser.language=en',
    '-Duser.country=US',
    `-Dkc.home.dir=${home}`,
    `-Djboss.server.config.dir=${join(home, 'conf')}`,
    '-Djava.util.logging.manager=org.jboss.logmanager.LogManager',
    '-Dpicocli.disable.closures=true',
    '-Dquarkus-log-max-startup-records=10000',
    // Everything this instance writes stays in its own directory (the install is shared).
    `-Dkc.db-url-path=${dataDir}`,
    `-Dquarkus.transaction-manager.object-store.directory=${join(dataDir, 'transaction-logs')}`,
    `-Djava.io.tmpdir=${join(dataDir, 'tmp')}`,
    '-cp',
    join(home, 'lib', 'quarkus-run.jar'),
    'io.quarkus.bootstrap.runner.QuarkusEntryPoint',
    ...kcArgs,
  ];
}

interface FetchResult {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

async function request(
  method: string,
  url: string,
  init: { bearer?: string; form?: Readonly<Record<string, string>>; json?: unknown } = {},
): Promise<FetchResult> {
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: string | undefined;
  if (init.bearer !== undefined) headers['authorization'] = `Bearer ${init.bearer}`;
  if (init.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  } else if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  const res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  if (text.length > 0) {
    try {
      const v: unknown = JSON.parse(text);
      parsed = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
    } catch {
      parsed = { text };
    }
  }
  return { status: res.status, body: parsed };
}

function accessTokenOf(r: FetchResult): string {
  const t = r.body['access_token'];
  if (r.status !== 200 || typeof t !== 'string') throw new KeycloakTokenError(r.status, r.body);
  return t;
}

/** Polls until `probe` resolves true, or rejects after `timeoutMs` / when the process died. */
async function waitUntil(what: string, timeoutMs: number, isAlive: () => boolean, probe: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (!isAlive()) throw new Error(`Keycloak exited while waiting for ${what}`);
    if (Date.now() > until) throw new Error(`Keycloak: no ${what} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const appRole = (app: string, kind: 'admin' | 'reader'): string => `${app}-${kind}`;

/** The realm roles that give `grants` (see {@link otaoRealmRepresentation}). */
function rolesOf(grants: Grants): string[] {
  const roles: string[] = [];
  for (const [app, scopes] of Object.entries(grants)) {
    const set = new Set(scopes);
    if (set.size === 0) continue;
    if (set.size === OTAO_SCOPES.length) roles.push(appRole(app, 'admin'));
    else if (set.size === 1 && set.has('application:software:read')) roles.push(appRole(app, 'reader'));
    else for (const s of set) roles.push(`${app}-${s.split(':')[2] ?? s}`);
  }
  return roles;
}

/**
 * A realm representation for one tenant: roles, users, the `otao` resource server with its
 * resources, scopes, role policies and scope permissions, the public `otao-cli` client, and the
 * confidential service clients (`otao-ci`) whose service-account users hold the roles of their grants.
 * Per application: role `{app}-reader` may read; role `{app}-admin` may read, update and delete.
 * A user whose grants for an application are exactly [read] gets `{app}-reader`; a user with all
 * three scopes gets `{app}-admin`; other combinations get one role `{app}-{scope}` per scope.
 */
export function otaoRealmRepresentation(
  realm: string,
  o: {
    applications: readonly string[];
    users: readonly KeycloakUserSpec[];
    clientSecret: string;
    accessTokenLifespanSeconds: number;
    /** Service clients with their secret in this realm. */
    serviceClients?: readonly (KeycloakServiceClientSpec & { readonly secret: string })[];
  },
): Record<string, unknown> {
  const audienceMapper = {
    name: 'audience-otao',
    protocol: 'openid-connect',
    protocolMapper: 'oidc-audience-mapper',
    consentRequired: false,
    config: { 'included.client.audience': 'otao', 'id.token.claim': 'false', 'access.token.claim': 'true', 'introspection.token.claim': 'true' },
  };
  const roleNames = new Set<string>();
  const policies: Record<string, unknown>[] = [];
  const permissions: Record<string, unknown>[] = [];
  const rolePolicy = (role: string): string => {
    const name = `role-${role}`;
    if (!roleNames.has(role)) {
      roleNames.add(role);
      policies.push({
        name,
        type: 'role',
        logic: 'POSITIVE',
        decisionStrategy: 'UNANIMOUS',
        config: { roles: JSON.stringify([{ id: role, required: false }]) },
      });
    }
    return name;
  };
  const usersRoles = o.users.map((u) => ({ user: u, roles: rolesOf(u.grants) }));
  const serviceClients = (o.serviceClients ?? []).map((c) => ({ client: c, roles: rolesOf(c.grants) }));
  const wanted = new Set([...usersRoles, ...serviceClients].flatMap((x) => x.roles));
  for (const app of o.applications) {
    for (const scope of OTAO_SCOPES) {
      const short = scope.split(':')[2] ?? scope;
      const custom = `${app}-${short}`;
      const roles = [appRole(app, 'admin'), ...(short === 'read' ? [appRole(app, 'reader')] : []), ...(wanted.has(custom) ? [custom] : [])];
      const applyPolicies = roles.map(rolePolicy);
      permissions.push({
        name: `${app}-${short}`,
        description: `${scope} on application-${app}`,
        type: 'scope',
        logic: 'POSITIVE',
        decisionStrategy: 'AFFIRMATIVE',
        config: { resources: JSON.stringify([`application-${app}`]), scopes: JSON.stringify([scope]), applyPolicies: JSON.stringify(applyPolicies) },
      });
    }
  }
  return {
    realm,
    displayName: `OTAO test tenant ${realm}`,
    enabled: true,
    sslRequired: 'none',
    registrationAllowed: false,
    accessTokenLifespan: o.accessTokenLifespanSeconds,
    roles: { realm: [...roleNames].map((name) => ({ name, description: `OTAO test role ${name}` })) },
    users: [
      ...usersRoles.map(({ user, roles }) => ({
        username: user.username,
        enabled: true,
        email: `${user.username}@${realm}.otao.test`,
        emailVerified: true,
        firstName: user.username,
        lastName: realm,
        credentials: [{ type: 'password', value: user.password, temporary: false }],
        realmRoles: [`default-roles-${realm}`, ...roles],
        requiredActions: [],
      })),
      { username: 'service-account-otao', enabled: true, serviceAccountClientId: 'otao', realmRoles: [`default-roles-${realm}`] },
      ...serviceClients.map(({ client, roles }) => ({
        username: `service-account-${client.clientId}`,
        enabled: true,
        serviceAccountClientId: client.clientId,
        realmRoles: [`default-roles-${realm}`, ...roles],
      })),
    ],
    clients: [
      {
        clientId: 'otao',
        name: 'OTAO resource server',
        enabled: true,
        protocol: 'openid-connect',
        publicClient: false,
        clientAuthenticatorType: 'client-secret',
        secret: o.clientSecret,
        standardFlowEnabled: false,
        implicitFlowEnabled: false,
        directAccessGrantsEnabled: false,
        serviceAccountsEnabled: true,
        authorizationServicesEnabled: true,
        protocolMappers: [audienceMapper],
        authorizationSettings: {
          allowRemoteResourceManagement: false,
          policyEnforcementMode: 'ENFORCING',
          decisionStrategy: 'AFFIRMATIVE',
          scopes: OTAO_SCOPES.map((name) => ({ name })),
          resources: o.applications.map((app) => ({
            name: `application-${app}`,
            displayName: `OTAO application ${app}`,
            type: OTAO_RESOURCE_TYPE,
            ownerManagedAccess: false,
            uris: [],
            scopes: OTAO_SCOPES.map((name) => ({ name })),
          })),
          policies: [...policies, ...permissions],
        },
      },
      {
        clientId: 'otao-cli',
        name: 'OTAO tests (password grant)',
        enabled: true,
        protocol: 'openid-connect',
        publicClient: true,
        standardFlowEnabled: false,
        implicitFlowEnabled: false,
        directAccessGrantsEnabled: true,
        serviceAccountsEnabled: false,
        protocolMappers: [audienceMapper],
      },
      ...serviceClients.map(({ client }) => ({
        clientId: client.clientId,
        name: `OTAO service client ${client.clientId} (client credentials)`,
        enabled: true,
        protocol: 'openid-connect',
        publicClient: false,
        clientAuthenticatorType: 'client-secret',
        secret: client.secret,
        standardFlowEnabled: false,
        implicitFlowEnabled: false,
        directAccessGrantsEnabled: false,
        serviceAccountsEnabled: true,
        protocolMappers: [audienceMapper],
      })),
    ],
  };
}

/**
 * Starts a real Keycloak (`kc.sh start --optimized` of the build ensure-keycloak.sh made: H2
 * "dev-file" database in a temporary directory, local caches, HTTP on 127.0.0.1) and creates one
 * realm per tenant through the Admin REST API (see docs/keycloak-testing.md).
 */
export async function startKeycloak(options: KeycloakOptions = {}): Promise<Keycloak> {
  const verbose = options.verbose ?? true;
  const version = options.version ?? process.env['OTAO_KEYCLOAK_VERSION'] ?? KEYCLOAK_VERSION;
  const realms = options.realms ?? ['tenant-a', 'tenant-b'];
  const applications = options.applications ?? ['kettle', 'toaster'];
  const users = options.users ?? DEFAULT_KEYCLOAK_USERS;
  const serviceClients = options.serviceClients ?? DEFAULT_KEYCLOAK_SERVICE_CLIENTS;
  const serviceSecrets = new Map<string, string>(
    realms.flatMap((realm) =>
      serviceClients.map((c): [string, string] => [`${realm}\0${c.clientId}`, `${c.clientId}-secret-${Math.random().toString(36).slice(2)}`]),
    ),
  );
  const serviceClientSecret = (realm: string, clientId: string): string => {
    const secret = serviceSecrets.get(`${realm}\0${clientId}`);
    if (secret === undefined) throw new Error(`no service client ${clientId} in realm ${realm}`);
    return secret;
  };
  const readyTimeoutMs = options.readyTimeoutMs ?? 180_000;
  const t0 = Date.now();
  const javaHome = keycloakJavaHome(options.javaHome);
  const home = keycloakHome(version, javaHome);
  const tLaunch = Date.now(); // the ready budget starts after a possible one-time install
  const port = options.port ?? (await freePort());
  const managementPort = await freePort();
  const dataDir = tempDir('keycloak');
  mkdirSync(join(dataDir, 'tmp'));
  const logFile = join(dataDir, 'keycloak.log');
  const adminUsername = 'admin';
  const adminPassword = `admin-${Math.random().toString(36).slice(2)}`;
  const clientSecret = `otao-secret-${Math.random().toString(36).slice(2)}`;
  const kcArgs = [
    'start',
    '--optimized',
    '--cache=local',
    '--http-enabled=true',
    '--hostname-strict=false',
    '--http-host=127.0.0.1',
    `--http-port=${port}`,
    `--http-management-port=${managementPort}`,
    '--log-level=warn',
  ];
  // The bootstrap admin as system properties (kc.<option>): ServiceProcess passes no environment of its own, and under Jest
  // process.env is a per-test-file copy that child processes never see.
  const jvm = [...javaArgs(home, javaHome, options.maxHeap ?? '512m', dataDir, kcArgs)];
  jvm.splice(jvm.indexOf('-cp'), 0, `-Dkc.bootstrap-admin-username=${adminUsername}`, `-Dkc.bootstrap-admin-password=${adminPassword}`);
  const proc = new ServiceProcess('keycloak', join(javaHome, 'bin', 'java'), jvm, port, logFile, { readyTimeoutMs });
  log(verbose, `starting Keycloak ${version} on 127.0.0.1:${port} (management ${managementPort}, data ${dataDir})`);
  const onExit = (): void => void proc.kill();
  process.once('exit', onExit);
  const base = `http://127.0.0.1:${port}`;
  try {
    await proc.start();
    log(verbose, `port open after ${Date.now() - t0} ms; waiting for /health/ready`);
    await waitUntil(
      'ready health check',
      Math.max(1000, readyTimeoutMs - (Date.now() - tLaunch)),
      () => proc.running,
      async () => {
        const r = await fetch(`http://127.0.0.1:${managementPort}/health/ready`, { signal: AbortSignal.timeout(5000) });
        await r.text();
        return r.status === 200;
      },
    );
    log(verbose, `ready after ${Date.now() - t0} ms; creating realms ${realms.join(', ')}`);
    const adminToken = async (): Promise<string> =>
      accessTokenOf(
        await request('POST', `${base}/realms/master/protocol/openid-connect/token`, {
          form: { grant_type: 'password', client_id: 'admin-cli', username: adminUsername, password: adminPassword },
        }),
      );
    const token = await adminToken();
    await Promise.all(
      realms.map(async (realm) => {
        const rep = otaoRealmRepresentation(realm, {
          applications,
          users,
          clientSecret,
          accessTokenLifespanSeconds: options.accessTokenLifespanSeconds ?? 1800,
          serviceClients: serviceClients.map((c) => ({ ...c, secret: serviceClientSecret(realm, c.clientId) })),
        });
        const r = await request('POST', `${base}/admin/realms`, { bearer: token, json: rep });
        if (r.status !== 201) throw new Error(`creating realm ${realm} failed: ${r.status} ${JSON.stringify(r.body)}`);
      }),
    );
    log(verbose, `configured after ${Date.now() - t0} ms`);

    const issuer = (realm: string): string => `${base}/realms/${realm}`;
    const tokenEndpoint = (realm: string): string => `${issuer(realm)}/protocol/openid-connect/token`;
    const tokenRequest = async (realm: string, params: Readonly<Record<string, string>>, bearer?: string): Promise<TokenResponse> =>
      request('POST', tokenEndpoint(realm), bearer === undefined ? { form: params } : { form: params, bearer });
    const passwordOf = (username: string): string => {
      const u = users.find((x) => x.username === username);
      if (!u) throw new Error(`no test user ${username}`);
      return u.password;
    };
    const passwordToken = async (realm: string, username: string): Promise<string> =>
      accessTokenOf(await tokenRequest(realm, { grant_type: 'password', client_id: 'otao-cli', username, password: passwordOf(username), scope: 'openid' }));
    return {
      url: base,
      port,
      managementPort,
      version,
      realms,
      applications,
      users,
      clientId: 'otao',
      clientSecret,
      cliClientId: 'otao-cli',
      serviceClients,
      serviceClientSecret,
      adminUsername,
      adminPassword,
      process: proc,
      dataDir,
      logFile,
      issuer,
      tokenEndpoint,
      jwksUri: (realm) => `${issuer(realm)}/protocol/openid-connect/certs`,
      passwordToken,
      rptToken: async (realm, username) => {
        const at = await passwordToken(realm, username);
        return accessTokenOf(await tokenRequest(realm, { grant_type: 'urn:ietf:params:oauth:grant-type:uma-ticket', audience: 'otao' }, at));
      },
      umaDecision: async (realm, accessToken, resource, scope) => {
        const r = await tokenRequest(
          realm,
          { grant_type: 'urn:ietf:params:oauth:grant-type:uma-ticket', audience: 'otao', response_mode: 'decision', permission: `${resource}#${scope}` },
          accessToken,
        );
        if (r.status === 200) return r.body['result'] === true;
        if (r.status === 403) return false;
        throw new KeycloakTokenError(r.status, r.body);
      },
      clientCredentialsToken: async (realm, clientId) =>
        accessTokenOf(
          await tokenRequest(realm, {
            grant_type: 'client_credentials',
            client_id: clientId ?? 'otao',
            client_secret: clientId === undefined ? clientSecret : serviceClientSecret(realm, clientId),
          }),
        ),
      tokenRequest,
      adminToken,
      stop: async () => {
        await proc.stop();
        process.removeListener('exit', onExit);
        killLeftovers(dataDir);
        rmSync(dataDir, { recursive: true, force: true });
        log(verbose, 'stopped');
      },
    };
  } catch (e) {
    await proc.kill();
    process.removeListener('exit', onExit);
    killLeftovers(dataDir);
    const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n') : '';
    throw new Error(`Keycloak did not start (log: ${logFile}): ${(e as Error).message}\n${tail}`, { cause: e });
  }
}

/** SIGKILLs any process whose command line mentions this instance's data directory (Linux /proc); a safety net after stop. */
function killLeftovers(dataDir: string): void {
  if (!existsSync('/proc')) return;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(`-Dkc.db-url-path=${dataDir}`)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already, or not ours to read
    }
  }
}
