import Fastify from 'fastify';

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/**
 * `GET /healthz` of a long-running service: 200 with the status object while `healthy` says so,
 * 503 otherwise. Listens on loopback unless told otherwise; nothing else is served.
 */
export async function startHealthServer(options: {
  host: string;
  port: number;
  status: () => Promise<{ healthy: boolean } & Record<string, unknown>>;
}): Promise<HealthServer> {
  const app = Fastify({ logger: false });
  app.get('/healthz', async (_request, reply) => {
    const status = await options.status();
    return reply.code(status.healthy ? 200 : 503).send(status);
  });
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : options.port,
    close: () => app.close(),
  };
}
