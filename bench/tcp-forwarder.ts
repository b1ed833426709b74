import { connect, createServer, type Socket } from 'node:net';

export interface TcpForwarder {
  port: number;
  close(): Promise<void>;
}

/**
 * Forwards 127.0.0.1:<port> to a Unix socket. The "bare" variant reaches the index proxy through
 * it, as pip in the sandbox reaches it through netsvc.py's forwarder: the same proxy code answers
 * every variant, so the index is no part of the difference measured.
 */
export async function startTcpForwarder(socketPath: string): Promise<TcpForwarder> {
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(socketPath);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('Cannot read the forwarder port');
  return {
    port: address.port,
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
