import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildNftRuleset } from './build-nft-ruleset.ts';

test('buildNftRuleset steers TCP by REDIRECT and UDP by TPROXY to the given ports', () => {
  const rules = buildNftRuleset({ dnsPort: 1053, tcpPort: 1080, udpPort: 1081, indexPort: 1082 });
  assert.match(rules, /ip daddr 127\.0\.0\.1 tcp dport \{ 1053, 1080, 1082 \} return/);
  assert.match(rules, /tcp dport 53 redirect to :1053/);
  assert.match(rules, /meta l4proto tcp redirect to :1080/);
  assert.match(rules, /ct direction reply accept/);
  assert.match(rules, /udp dport 53 tproxy ip to 127\.0\.0\.1:1053/);
  assert.match(rules, /tproxy ip6 to \[::1\]:1081/);
  // The index port is reachable over TCP only from inside; UDP to it is captured like any other.
  assert.doesNotMatch(rules, /udp dport \{[^}]*1082/);
});
