import { afterEach, describe, expect, it, vi } from "vitest";
import { reportError } from "../../src/cli/report-error.js";
import { ExitCode, MlopsError } from "../../src/errors.js";
import { redactSecrets, redactUrl } from "../../src/redact.js";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (out.push(String(chunk)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (err.push(String(chunk)), true));
  return { out, err };
}

afterEach(() => vi.restoreAllMocks());

describe("reportError", () => {
  it("maps a known error to its exit code with message and hint on stderr", () => {
    const { out, err } = capture();
    const code = reportError(new MlopsError("X", "it broke", { exitCode: ExitCode.unavailable, hint: "do this" }), { json: false, verbose: false });
    expect(code).toBe(4);
    expect(out).toEqual([]);
    expect(err.join("")).toContain("it broke");
    expect(err.join("")).toContain("do this");
    expect(err.join("")).not.toContain("at ");
  });

  it("prints one JSON document on stdout under --json", () => {
    const { out } = capture();
    reportError(new MlopsError("CONFIG_INVALID", "bad", { exitCode: ExitCode.usage, hint: "fix" }), { json: true, verbose: false });
    expect(JSON.parse(out.join(""))).toEqual({ error: { code: "CONFIG_INVALID", message: "bad", hint: "fix", exitCode: 2 } });
  });

  it("under --json says one line on stderr, even for a message of several lines", () => {
    const { out, err } = capture();
    reportError(new MlopsError("OPTIONS_INVALID", "--a: bad\n--b: worse", { exitCode: ExitCode.usage, hint: "see --help" }), {
      json: true,
      verbose: false,
    });
    expect(err.join("").split("\n").filter(Boolean)).toEqual([expect.stringContaining("--a: bad")]);
    expect(JSON.parse(out.join(""))).toMatchObject({ error: { message: "--a: bad\n--b: worse", hint: "see --help" } });
  });

  it("treats anything else as a bug: exit 1, stack only with --verbose", () => {
    const { err } = capture();
    expect(reportError(new TypeError("boom"), { json: false, verbose: false })).toBe(1);
    expect(err.join("")).not.toContain("TypeError: boom\n    at");
    reportError(new TypeError("boom"), { json: false, verbose: true });
    expect(err.join("")).toContain("TypeError: boom\n    at");
  });

  it("never prints a password that reached an error message", () => {
    const { err } = capture();
    reportError(new Error("connect to postgresql://u:hunter2@db:5432/x failed"), { json: false, verbose: true });
    expect(err.join("")).not.toContain("hunter2");
  });
});

describe("redaction", () => {
  it("masks URL passwords and secret query parameters", () => {
    expect(redactUrl("postgresql://u:p%40ss@h:5432/db?sslpassword=z&x=1")).toBe("postgresql://u:***@h:5432/db?sslpassword=***&x=1");
    expect(redactUrl("postgresql://u@h/db")).toBe("postgresql://u@h/db");
  });
  it("masks key=value secrets in free text", () => {
    expect(redactSecrets("password=abc api_key: xyz ok")).toBe("password=*** api_key: *** ok");
  });
});

describe("isConnectionError", () => {
  it("counts a socket the server dropped (refused, reset, broken pipe, admin shutdown) and not a bad query", async () => {
    const { isConnectionError } = await import("../../src/db/connection.js");
    const socket = (code: string, message: string) => Object.assign(new Error(message), { code });
    expect(isConnectionError(socket("EPIPE", "write EPIPE"))).toBe(true);
    expect(isConnectionError(socket("ECONNRESET", "read ECONNRESET"))).toBe(true);
    expect(isConnectionError(socket("57P01", "terminating connection due to administrator command"))).toBe(true);
    expect(isConnectionError(socket("42601", 'syntax error at or near "SELEC"'))).toBe(false);
  });
});
