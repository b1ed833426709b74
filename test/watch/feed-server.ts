import Fastify from 'fastify';

/** One release in a synthetic feed. */
export interface FeedRelease {
  name: string;
  version: string;
  /** ISO time of publication. */
  published: string;
}

export interface ChangelogEntry extends FeedRelease {
  action: string;
  serial: number;
}

/**
 * A loopback stand-in for the index's feeds: RSS of releases and of new projects, and the XML-RPC
 * changelog, all replaced at will by the test (`set`), or answering malformed XML once.
 */
export interface FeedServer {
  base: string;
  set(next: Partial<FeedScenario>): void;
  close(): Promise<void>;
  requests: string[];
}

export interface FeedScenario {
  releases: FeedRelease[];
  projects: { name: string; published: string }[];
  changelog: ChangelogEntry[];
  lastSerial: number;
  /** Answer the next N releases-feed requests with malformed XML. */
  malformed: number;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function rss(base: string, items: { title: string; path: string; published: string }[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>test feed</title><link>${base}/</link><description>t</description>
${items
  .map(
    (i) =>
      `<item><title>${escapeXml(i.title)}</title><link>${base}${i.path}</link><description>d</description><pubDate>${new Date(i.published).toUTCString()}</pubDate></item>`,
  )
  .join('\n')}
</channel></rss>`;
}

function xmlRpc(value: string): string {
  return `<?xml version='1.0'?><methodResponse><params><param><value>${value}</value></param></params></methodResponse>`;
}

export async function startFeedServer(initial: Partial<FeedScenario> = {}): Promise<FeedServer> {
  const scenario: FeedScenario = {
    releases: [],
    projects: [],
    changelog: [],
    lastSerial: 0,
    malformed: 0,
    ...initial,
  };
  const requests: string[] = [];
  const app = Fastify({ logger: false });
  app.addContentTypeParser('text/xml', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  let base = '';
  app.get('/rss/updates.xml', async (_req, reply) => {
    requests.push('updates');
    if (scenario.malformed > 0) {
      scenario.malformed--;
      return reply.type('application/rss+xml').send('<rss><channel><item><title>broken</channel>');
    }
    // Newest first, as the index lists them.
    const items = [...scenario.releases].reverse().map((r) => ({
      title: `${r.name} ${r.version}`,
      path: `/project/${r.name}/${r.version}/`,
      published: r.published,
    }));
    return reply.type('application/rss+xml').send(rss(base, items));
  });
  app.get('/rss/packages.xml', async (_req, reply) => {
    requests.push('packages');
    const items = scenario.projects.map((p) => ({
      title: `${p.name} added to the index`,
      path: `/project/${p.name}/`,
      published: p.published,
    }));
    return reply.type('application/rss+xml').send(rss(base, items));
  });
  app.post('/pypi', async (req, reply) => {
    const body = String(req.body);
    reply.type('text/xml');
    if (body.includes('changelog_last_serial')) {
      requests.push('last_serial');
      return xmlRpc(`<int>${scenario.lastSerial}</int>`);
    }
    const since = Number(/<int>(\d+)<\/int>/.exec(body)?.[1] ?? 'NaN');
    requests.push(`since:${since}`);
    const rows = scenario.changelog
      .filter((e) => e.serial > since)
      .map(
        (e) =>
          `<value><array><data><value><string>${escapeXml(e.name)}</string></value><value><string>${escapeXml(e.version)}</string></value><value><int>${Math.floor(Date.parse(e.published) / 1000)}</int></value><value><string>${escapeXml(e.action)}</string></value><value><int>${e.serial}</int></value></data></array></value>`,
      );
    return xmlRpc(`<array><data>${rows.join('')}</data></array>`);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    base,
    requests,
    set(next) {
      Object.assign(scenario, next);
    },
    close: () => app.close(),
  };
}

/** A webhook receiver: records every POST, fails the first `failFirst` on purpose, dedupes by Idempotency-Key. */
export interface WebhookReceiver {
  url: string;
  /** Every request: key, status answered, body. */
  received: { key: string; status: number; body: unknown; path: string }[];
  /** Keys accepted (2xx), each once, in order. */
  accepted: string[];
  /** How many 2xx answers each key got (a re-send after a crash shows as 2). */
  okCount: Map<string, number>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(options: { failFirst: number }): Promise<WebhookReceiver> {
  const received: WebhookReceiver['received'] = [];
  const accepted: string[] = [];
  const okCount = new Map<string, number>();
  let failures = options.failFirst;
  const app = Fastify({ logger: false });
  app.post('/*', async (req, reply) => {
    const key = String(req.headers['idempotency-key'] ?? '');
    const status = failures > 0 ? 500 : 200;
    if (failures > 0) failures--;
    received.push({ key, status, body: req.body, path: req.url });
    if (status === 200) {
      okCount.set(key, (okCount.get(key) ?? 0) + 1);
      if (!accepted.includes(key)) accepted.push(key);
    }
    return reply.code(status).send({ ok: status === 200 });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    received,
    accepted,
    okCount,
    close: () => app.close(),
  };
}
