import { endpointRepositoryContract, jobQueueContract, leaseContract, rolloutStatsRepositoryContract, softwareRepositoryContract } from '../src';
import { InMemoryEndpointRepository, InMemoryJobQueue, InMemoryLease, InMemoryRolloutStatsRepository, InMemorySoftwareRepository } from '@otao/core/testing';

// The in-memory fakes of @otao/core/testing must keep the same contracts as the real adapters.
softwareRepositoryContract('in-memory', { create: async () => new InMemorySoftwareRepository() });
endpointRepositoryContract('in-memory', { create: async () => new InMemoryEndpointRepository() });
rolloutStatsRepositoryContract('in-memory', { create: async () => new InMemoryRolloutStatsRepository() });
leaseContract('in-memory', { create: async () => new InMemoryLease() });
jobQueueContract('in-memory', { create: async () => new InMemoryJobQueue() });
