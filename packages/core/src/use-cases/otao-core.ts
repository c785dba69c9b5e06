import { CohortMemo } from '../domain/cohort-memo';
import { ApplicationsService } from './applications.use-case';
import { AuditService } from './audit.use-case';
import { CatalogueCache } from './catalogue-cache';
import { ConfigRequestService } from './config-request.use-case';
import { ConsentService } from './consent.use-case';
import { ContentBuilder } from './content-builder';
import { type CoreDeps, type CoreOptions, DEFAULT_CORE_OPTIONS } from './core-deps';
import { EndpointEventsService } from './endpoint-events.use-case';
import { FleetCounts } from './fleet-counts';
import { InsightService } from './insight.use-case';
import { PhaseService } from './phases.use-case';
import { PushService } from './push.use-case';
import { ReportService } from './report.use-case';
import { RolloutDatesService } from './rollout-dates.use-case';
import { ReportTimeoutsService } from './report-timeouts.use-case';
import { RolloutSafety } from './rollout-safety';
import { SoftwareFilesService } from './software-files.use-case';
import { SoftwareService } from './software.use-case';
import { TenantService } from './tenant.use-case';

/** Every use case of the core, wired over one set of ports. Adapters call these and nothing else. */
export interface OtaoCore {
  readonly software: SoftwareService;
  /** The software files of spec §5; absent when S3 is disabled (no `files` port). */
  readonly files?: SoftwareFilesService;
  readonly config: ConfigRequestService;
  readonly reports: ReportService;
  readonly endpointEvents: EndpointEventsService;
  readonly consents: ConsentService;
  readonly pushes: PushService;
  readonly insight: InsightService;
  readonly tenants: TenantService;
  /** The applications of a tenant (spec §6.4.1). */
  readonly applications: ApplicationsService;
  /** The audit log (spec §4.13, §6.4.1): pages, and its background maintenance. */
  readonly audit: AuditService;
  readonly rolloutDates: RolloutDatesService;
  /** Phased rollouts (spec §4.10): the automatic advance and the operator's advance, hold and resume. */
  readonly phases: PhaseService;
  /** Report timeouts (spec §4.11) and history pruning, under a lease. */
  readonly reportTimeouts: ReportTimeoutsService;
  readonly catalogues: CatalogueCache;
  readonly options: CoreOptions;
}

export function createOtaoCore(deps: CoreDeps, options: Partial<CoreOptions> = {}): OtaoCore {
  const opts: CoreOptions = { ...DEFAULT_CORE_OPTIONS, ...options };
  const catalogues = new CatalogueCache(deps.software, deps.clock, opts.catalogueMaxAgeMs, { zones: deps.zones, cohorts: new CohortMemo(deps.sha256) });
  const content = new ContentBuilder(deps.clock, deps.files, opts.fileLinks);
  const safety = new RolloutSafety(deps, catalogues);
  const pushes = new PushService(deps, opts, catalogues, content, safety);
  const files = deps.files;
  const tenants = new TenantService(deps, catalogues);
  return {
    software: new SoftwareService(deps, opts, catalogues),
    ...(files ? { files: new SoftwareFilesService({ ...deps, files }, opts, catalogues) } : {}),
    config: new ConfigRequestService(deps, opts, catalogues, content, safety),
    reports: new ReportService(deps, safety, pushes),
    endpointEvents: new EndpointEventsService(deps, pushes, catalogues),
    consents: new ConsentService(deps, pushes),
    pushes,
    insight: new InsightService(
      deps,
      opts,
      catalogues,
      new FleetCounts(deps, opts, async (t, a) => (await catalogues.planner(t, a)).catalogue.cohortBoundaries),
    ),
    tenants,
    applications: new ApplicationsService(deps),
    audit: new AuditService(deps, opts, tenants),
    rolloutDates: new RolloutDatesService(deps, opts),
    phases: new PhaseService(deps, opts, catalogues),
    reportTimeouts: new ReportTimeoutsService(deps, opts, safety),
    catalogues,
    options: opts,
  };
}
