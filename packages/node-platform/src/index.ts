// @otao/node-platform: the core's platform ports on Node.js (docs/adr/0018).
import { LuxonZoneRules } from './luxon-zone-rules';
import { NodeCryptoSha256 } from './node-crypto-sha256';

export { LuxonZoneRules } from './luxon-zone-rules';
export { NodeCryptoSha256 } from './node-crypto-sha256';

/** The platform ports `createOtaoCore` takes (`sha256`, `zones`), as apps/server wires them. */
export function createNodePlatform(): { readonly sha256: NodeCryptoSha256; readonly zones: LuxonZoneRules } {
  return { sha256: new NodeCryptoSha256(), zones: new LuxonZoneRules() };
}
