import type pg from "pg";
import { MODEL_CHANNEL } from "../registry/channel.js";

export interface PromotionListenerOptions {
  /** Opens the listening connection. */
  connect: () => Promise<pg.Client>;
  /** A promotion notice arrived: reload the active version. */
  onPromotion: () => Promise<void>;
  /**
   * The connection came back after being lost: promotions made meanwhile sent notices nobody
   * heard, so the caller compares its version with the active one and reloads if they differ.
   */
  onReconnect: () => Promise<void>;
  retryMs?: number;
}

/**
 * LISTEN for promotions on a connection of its own, re-subscribing (every `retryMs`) whenever
 * that connection is lost: the database restarted, or its backend was terminated.
 */
export async function listenForPromotions(options: PromotionListenerOptions): Promise<{ close(): Promise<void> }> {
  const retryMs = options.retryMs ?? 2000;
  let client: pg.Client | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<boolean> => {
    if (closed) return false;
    let next: pg.Client | undefined;
    try {
      next = await options.connect();
      const current = next;
      current.on("notification", (message) => {
        if (message.channel === MODEL_CHANNEL) void options.onPromotion();
      });
      // Only this connection's loss schedules a retry: a late event of an older one must not.
      current.on("error", () => lost(current));
      current.on("end", () => lost(current));
      await current.query(`LISTEN ${MODEL_CHANNEL}`);
      if (closed) {
        await current.end().catch(() => undefined);
        return false;
      }
      client = current;
      return true;
    } catch {
      await next?.end().catch(() => undefined);
      retry();
      return false;
    }
  };
  const lost = (which: pg.Client) => {
    if (client !== which && client !== undefined) return;
    client = undefined;
    retry();
  };
  const retry = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect().then((ok) => (ok ? options.onReconnect() : undefined));
    }, retryMs);
    timer.unref();
  };

  await connect();
  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const last = client;
      client = undefined;
      await last?.end().catch(() => undefined);
    },
  };
}
