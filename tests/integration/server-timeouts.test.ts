import net from "node:net";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { servingFixture, type ServingFixture } from "../helpers/serving.js";

// Slow clients must not hold connections (and file descriptors) for ever (issue 12.4).
let fixture: ServingFixture;
let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  fixture = await servingFixture({ serve: { requestTimeoutMs: 1500, headersTimeoutMs: 1000, idleTimeoutMs: 3000, maxConnections: 8 } } as never);
  await fixture.registerModel("v1", 1, 1);
  await fixture.promote(1);
  ({ app } = await fixture.build());
  await app.listen({ host: "127.0.0.1", port: 0 });
  port = (app.server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await app?.close();
  await fixture?.close();
});

interface Slow {
  socket: net.Socket;
  closed: Promise<number>;
  received: () => string;
}

/** A connection that sends the headers of a 1,000-byte /predict body, then one byte every 200 ms. */
function slowBody(): Slow {
  const socket = net.connect(port, "127.0.0.1");
  const opened = Date.now();
  let received = "";
  socket.on("data", (chunk) => (received += chunk.toString()));
  socket.on("error", () => undefined);
  socket.write(`POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`);
  const drip = setInterval(() => socket.writable && socket.write(" "), 200);
  const closed = new Promise<number>((resolve) => socket.on("close", () => (clearInterval(drip), resolve(Date.now() - opened))));
  return { socket, closed, received: () => received };
}

const health = async () => (await fetch(`http://127.0.0.1:${port}/health`)).status;

/** GET /health on a new connection: what the server sends back before closing it ("" if nothing). */
function freshHealth(): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let received = "";
    socket.on("data", (chunk) => (received += chunk.toString()));
    socket.on("error", () => undefined);
    socket.on("close", () => resolve(received));
    socket.write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  });
}

describe("slow clients", () => {
  it("cuts off a body that trickles in past the request timeout, while normal requests are answered", async () => {
    const slow = slowBody();
    const answered: number[] = [];
    const until = Date.now() + 1200;
    while (Date.now() < until) {
      answered.push(await health());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(answered.every((status) => status === 200)).toBe(true);
    const lasted = await Promise.race([slow.closed, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 10_000))]);
    // Still sending when cut: the server, not the client, ended it (with a 408).
    expect(lasted).toBeGreaterThan(1000);
    expect(lasted).toBeLessThan(10_000);
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408/);
    expect(await health()).toBe(200);
  });

  it("refuses connections past the cap, and serves again once they are gone", async () => {
    const held = Array.from({ length: 8 }, () => slowBody());
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await freshHealth()).toBe("");
    await Promise.all(held.map((slow) => slow.closed));
    expect(await freshHealth()).toMatch(/^HTTP\/1\.1 200/);
  });
});
