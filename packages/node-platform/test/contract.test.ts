import { sha256Contract, zoneRulesContract } from '@otao/contract-tests';
import { LuxonZoneRules, NodeCryptoSha256 } from '../src';

// The same suites the reference implementations of @otao/core/testing pass (contract-tests/test/in-memory.test.ts).
sha256Contract('node:crypto', { create: async () => new NodeCryptoSha256() });
zoneRulesContract('Luxon', { create: async () => new LuxonZoneRules() });
