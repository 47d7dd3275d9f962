import { Ajv, type ValidateFunction } from "ajv";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document walked by path and method names, not a typed model
type Document = Record<string, any>;

/** One Ajv per document text: the document changes when the served version does. */
const compiled = new Map<string, { ajv: Ajv; validators: Map<string, ValidateFunction> }>();

function validatorFor(text: string, document: Document, pointer: string, schema: unknown): ValidateFunction {
  let entry = compiled.get(text);
  if (!entry) {
    // OpenAPI 3.0 schemas are JSON Schema plus nullable (which Ajv knows) and example (ignored).
    const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
    ajv.addSchema({ $id: "openapi", components: document.components });
    entry = { ajv, validators: new Map() };
    compiled.set(text, entry);
  }
  let validate = entry.validators.get(pointer);
  if (!validate) {
    const rebased = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/'));
    validate = entry.ajv.compile(rebased);
    entry.validators.set(pointer, validate);
  }
  return validate;
}

/** The document's operation for a request: its path template, or undefined for a path it does not list. */
function operationOf(document: Document, method: string, url: string) {
  const path = url.split("?")[0]!;
  for (const [template, item] of Object.entries<Record<string, unknown>>(document.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`);
    if (pattern.test(path)) return { template, operation: item[method.toLowerCase()] as Document | undefined };
  }
  return undefined;
}

/**
 * Checks one answer against the server's own /docs/json: the status must be listed for the
 * operation and the body must match the schema for its content type. Answers to paths or
 * methods the document does not list (404, 405) must carry the documented Error body.
 * Throws, naming the route and what differs, so the test that received the answer fails.
 */
export async function checkAgainstDocument(
  inject: FastifyInstance["inject"],
  method: string,
  url: string,
  response: LightMyRequestResponse,
): Promise<void> {
  // HEAD answers carry no body to check; the docs' own pages are not part of the API.
  if (url.startsWith("/docs") || method === "HEAD") return;
  const documentText = (await inject({ method: "GET", url: "/docs/json" })).body;
  const document = JSON.parse(documentText) as Document;
  const found = operationOf(document, method, url);
  const where = `${method} ${url} answered ${response.statusCode}`;
  let schema: unknown = { $ref: "#/components/schemas/Error" };
  let pointer = "Error";
  const type = String(response.headers["content-type"] ?? "").split(";")[0]!;
  if (found?.operation) {
    const answer = found.operation.responses?.[String(response.statusCode)];
    if (!answer) throw new Error(`${where}, a status the OpenAPI document does not list for ${method} ${found.template}`);
    const media = answer.content?.[type];
    if (!media)
      throw new Error(`${where} with content type ${type}, which the document does not list (${Object.keys(answer.content ?? {}).join(", ")})`);
    if (type !== "application/json") {
      if (media.schema?.type !== "string") throw new Error(`${where}: a ${type} answer documented as ${JSON.stringify(media.schema)}`);
      return;
    }
    schema = media.schema;
    pointer = `${method} ${found.template} ${response.statusCode}`;
  } else if (response.statusCode !== 404 && response.statusCode !== 405) {
    throw new Error(`${where} on a path the OpenAPI document does not list`);
  }
  if (type !== "application/json") throw new Error(`${where} with content type ${type}, not the documented JSON error body`);
  const validate = validatorFor(documentText, document, pointer, schema);
  if (!validate(response.json())) {
    throw new Error(
      `${where}; the body does not match the OpenAPI document: ${JSON.stringify(validate.errors)}\nbody: ${response.body.slice(0, 500)}`,
    );
  }
}

/**
 * Makes every `app.inject(...)` of the tests check its answer against the document (see
 * checkAgainstDocument), so the contract cannot drift from the code.
 */
export function checkEveryAnswer(app: FastifyInstance): FastifyInstance {
  const inject = app.inject.bind(app) as FastifyInstance["inject"];
  const checked = async (options: string | { method?: string; url?: string; path?: string }) => {
    const response = await inject(options as never);
    const method = typeof options === "string" ? "GET" : (options.method ?? "GET");
    const url = typeof options === "string" ? options : (options.url ?? options.path ?? "/");
    await checkAgainstDocument(inject, method.toUpperCase(), url, response);
    return response;
  };
  (app as unknown as { inject: unknown }).inject = checked;
  return app;
}
