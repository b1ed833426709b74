/** Ports netsvc.py listens on inside the sandbox's network namespace. */
export interface NetServicePorts {
  dnsPort: number;
  tcpPort: number;
  udpPort: number;
  indexPort: number;
}

/**
 * nftables rules for a sandbox network namespace whose every address is local (route local default
 * dev lo), so no packet can leave and every one can be steered to the services:
 * - TCP: nat REDIRECT (port 53 to the DNS server, everything else to the sinkhole); the services
 *   read the original destination back with SO_ORIGINAL_DST.
 * - UDP: TPROXY, which keeps the original destination in the packet (IP_RECVORIGDSTADDR) and lets the
 *   DNS server answer from the address the client wrote to. REDIRECT cannot do this for UDP.
 * - `ct direction reply` lets those answers reach the client instead of being captured again.
 */
export function buildNftRuleset(ports: NetServicePorts): string {
  const { dnsPort, tcpPort, udpPort, indexPort } = ports;
  return `table inet pkghunt {
  chain output_nat {
    type nat hook output priority -100; policy accept;
    ip daddr 127.0.0.1 tcp dport { ${dnsPort}, ${tcpPort}, ${indexPort} } return
    ip6 daddr ::1 tcp dport { ${dnsPort}, ${tcpPort} } return
    tcp dport 53 redirect to :${dnsPort}
    meta l4proto tcp redirect to :${tcpPort}
  }
  chain prerouting_udp {
    type filter hook prerouting priority mangle; policy accept;
    ct direction reply accept
    ip daddr 127.0.0.1 udp dport { ${dnsPort}, ${udpPort} } accept
    ip6 daddr ::1 udp dport { ${dnsPort}, ${udpPort} } accept
    meta nfproto ipv4 udp dport 53 tproxy ip to 127.0.0.1:${dnsPort} accept
    meta nfproto ipv6 udp dport 53 tproxy ip6 to [::1]:${dnsPort} accept
    meta nfproto ipv4 meta l4proto udp tproxy ip to 127.0.0.1:${udpPort} accept
    meta nfproto ipv6 meta l4proto udp tproxy ip6 to [::1]:${udpPort} accept
  }
}
`;
}
