import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { DashboardPages, ServerContext } from "../context.js";

/** The page is rebuilt at most this often however many browsers poll it. */
const DASHBOARD_CACHE_MS = 5000;
/** How often the page reloads itself (shown on the page). */
const DASHBOARD_REFRESH_S = 15;

/**
 * GET /dashboard: the report page, live from the database. The page is cached for a few seconds
 * and concurrent views share one rebuild, so the queries run at most once per interval on the
 * dashboard's own connection, whatever the traffic on /predict. When the config protects
 * /predict, the page wants MLOPS_API_KEY too: as the X-API-Key header, a bearer token, or the
 * password of HTTP basic auth (which a browser asks for).
 */
export function registerDashboard(app: FastifyInstance, context: ServerContext, pages: DashboardPages): void {
  let cached: { at: number; html: string } | undefined;
  let building: Promise<string> | undefined;
  const page = async (): Promise<string> => {
    if (cached && Date.now() - cached.at < DASHBOARD_CACHE_MS) return cached.html;
    building ??= pages
      .page(DASHBOARD_REFRESH_S)
      .then((html) => {
        cached = { at: Date.now(), html };
        return html;
      })
      .finally(() => (building = undefined));
    return building;
  };

  app.get(
    "/dashboard",
    {
      schema: {
        summary: "The live report page (HTML): lineage, version detail, data and drift, traffic, runs",
        ...(context.config.serve.requireApiKey ? { security: [{ apiKey: [] }] } : {}),
      },
    },
    async (request, reply) => {
      if (context.config.serve.requireApiKey && !authorised(request, reply, context.apiKey)) return reply;
      try {
        return reply
          .type("text/html; charset=utf-8")
          .header("cache-control", "no-store")
          .send(await page());
      } catch (error) {
        const message = (error as Error).message.replace(/[<>&]/g, "");
        return reply
          .code(503)
          .type("text/html; charset=utf-8")
          .send(
            `<!doctype html><meta charset="utf-8"><title>mlops dashboard</title><p>The dashboard could not read the database: ${message}. Predictions are not affected; reload to retry.</p>`,
          );
      }
    },
  );
}

function authorised(request: FastifyRequest, reply: FastifyReply, apiKey: string | undefined): boolean {
  if (!apiKey) {
    void reply.code(403).send({ error: "MLOPS_API_KEY is not set on the server, so the protected dashboard is disabled" });
    return false;
  }
  const header = request.headers["x-api-key"];
  const authorization = request.headers.authorization ?? "";
  const basic = /^Basic\s+(.+)$/i.exec(authorization);
  const given =
    typeof header === "string"
      ? header
      : basic
        ? Buffer.from(basic[1]!, "base64")
            .toString()
            .replace(/^[^:]*:/, "")
        : authorization.replace(/^Bearer\s+/i, "");
  const digest = (text: string) => createHash("sha256").update(text).digest();
  // Equal-length digests compared in constant time: the key never leaks through timing.
  if (given && timingSafeEqual(digest(given), digest(apiKey))) return true;
  void reply
    .code(401)
    .header("www-authenticate", 'Basic realm="mlops dashboard", charset="UTF-8"')
    .send({ error: "missing or wrong API key (X-API-Key header, or any user name with the key as password)" });
  return false;
}
