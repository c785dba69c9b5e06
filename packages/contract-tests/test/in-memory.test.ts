import { auditLogContract, endpointRepositoryContract, fileStoreContract, jobQueueContract, leaseContract, rolloutStatsRepositoryContract, softwareRepositoryContract } from '../src';
import { InMemoryAuditLog, InMemoryEndpointRepository, InMemoryFileStore, InMemoryJobQueue, InMemoryLease, InMemoryRolloutStatsRepository, InMemorySoftwareRepository } from '@otao/core/testing';

// The in-memory fakes of @otao/core/testing must keep the same contracts as the real adapters.
softwareRepositoryContract('in-memory', { create: async () => new InMemorySoftwareRepository() });
endpointRepositoryContract('in-memory', { create: async () => new InMemoryEndpointRepository() });
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
