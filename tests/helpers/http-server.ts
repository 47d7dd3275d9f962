import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Route {
  status?: number;
  type?: string;
  body: string | Buffer;
}

/** A local HTTP server for source tests: path -> canned response. Only ever on 127.0.0.1. */
export async function serveRoutes(routes: Record<string, Route>): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    const route = routes[request.url ?? ""];
    if (!route) {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    response.writeHead(route.status ?? 200, { "content-type": route.type ?? "text/csv" }).end(route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
