import {
  applicationRegistryContract,
  auditLogContract,
  configPublisherContract,
  endpointRepositoryContract,
  fileStoreContract,
  filterDirectoryContract,
  jobQueueContract,
  leaseContract,
  rolloutStatsRepositoryContract,
  sha256Contract,
  softwareRepositoryContract,
  zoneRulesContract,
} from '../src';
import {
  InMemoryApplicationRegistry,
  InMemoryAuditLog,
  InMemoryEndpointRepository,
  InMemoryFileStore,
  InMemoryFilterDirectory,
  InMemoryJobQueue,
  InMemoryLease,
  InMemoryRolloutStatsRepository,
  InMemorySoftwareRepository,
  IntlZoneRules,
  PlainSha256,
  RecordingConfigPublisher,
} from '@otao/core/testing';
import { cohortOf as coreCohortOf } from '@otao/core';

// The in-memory fakes of @otao/core/testing must keep the same contracts as the real adapters.
softwareRepositoryContract('in-memory', { create: async () => new InMemorySoftwareRepository() });
const cohortOf = (t: string, a: string, e: string): number => coreCohortOf(new PlainSha256(), t, a, e);
endpointRepositoryContract('in-memory', { create: async () => new InMemoryEndpointRepository({ cohortOf }), cohortOf });
rolloutStatsRepositoryContract('in-memory', { create: async () => new InMemoryRolloutStatsRepository() });
leaseContract('in-memory', { create: async () => new InMemoryLease() });
jobQueueContract('in-memory', { create: async () => new InMemoryJobQueue() });
auditLogContract('in-memory', { create: async () => new InMemoryAuditLog() });
fileStoreContract(
  'in-memory',
  {
    create: async () => {
      const store = new InMemoryFileStore();
      return {
        store,
        download: async (url) => store.download(url),
        keys: async (prefix) => store.keys(prefix),
        outage: {
          begin: async () => {
            store.faults.unavailable = true;
          },
          end: async () => {
            store.faults.unavailable = false;
          },
        },
      };
    },
  },
  { largeBytes: 3 * 1024 * 1024 },
);
// One fault switch stands for EPR silent, answering 5xx or answering 4xx.
filterDirectoryContract('in-memory', {
  create: async () => {
    const directory = new InMemoryFilterDirectory();
    return {
      directory,
      setMembers: async (filterId, appVersionName, endpointIds) => directory.setMembers(filterId, appVersionName, endpointIds),
      fail: async () => {
        directory.faults.unavailable = true;
      },
      heal: async () => {
        directory.faults.unavailable = false;
      },
    };
  },
});
// The recorded pushes are what a consumer receives.
configPublisherContract('recording', {
  create: async () => {
    const publisher = new RecordingConfigPublisher();
    return {
      publisher,
      received: async () =>
        publisher.pushes.map((p) => ({
          appVersionName: p.appVersionName,
          endpointId: p.endpointId,
          version: p.version,
          content: p.content,
          contentType: p.contentType,
          correlationId: p.correlationId,
        })),
      outage: {
        begin: async () => {
          publisher.faults.unavailable = true;
        },
        end: async () => {
          publisher.faults.unavailable = false;
        },
      },
    };
  },
});
const defined = (apps: Parameters<Parameters<typeof applicationRegistryContract>[1]['create']>[0]): InMemoryApplicationRegistry =>
  new InMemoryApplicationRegistry(
    apps.map((a) => ({
      tenantId: a.tenantId,
      appName: a.appName,
      versions: a.appVersionNames,
      ...(a.consentRequired !== undefined ? { consentRequired: a.consentRequired } : {}),
    })),
  );
applicationRegistryContract('in-memory', {
  create: async (apps) => defined(apps),
  beforeFirstLoad: async (apps) => {
    const r = defined(apps);
    r.loaded = false;
    return r;
  },
});
// The reference implementations of the platform ports (ADR 0018); @otao/node-platform runs the same suites on its adapters.
sha256Contract('reference (plain TypeScript)', { create: async () => new PlainSha256() });
zoneRulesContract('reference (Intl.DateTimeFormat)', { create: async () => new IntlZoneRules() });
