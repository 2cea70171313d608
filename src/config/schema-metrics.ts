// `metrics:` (issue #25, part A): where `opsdeck watch` serves its Prometheus endpoint and the
// `host` label of what it exports. No `addr` (and no `--metrics-addr`): no endpoint at all.

import { z } from 'zod';

/** A listen address: `HOST:PORT`, `[IPv6]:PORT`. */
export interface ListenAddr {
  host: string;
  port: number;
}

const EXPECTED = 'expected HOST:PORT such as 127.0.0.1:9464 (an IPv6 address in brackets: [::1]:9464)';

/**
 * Reads `HOST:PORT` (`127.0.0.1:9464`, `localhost:9464`, `[::1]:9464`, `0.0.0.0:9464`); port 0 asks the
 * system for a free port. Returns the problem as a text (said after the flag or field) when it is not one.
 */
export function parseListenAddr(text: string): ListenAddr | string {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]/]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) return `${EXPECTED}, got ${JSON.stringify(text)}`;
  const port = Number(m[3]);
  if (port > 65535) return `expected a port from 0 to 65535, got ${port}`;
  return { host: (m[1] ?? m[2]) as string, port };
}

/** `HOST:PORT` shown back (brackets around an IPv6 address). */
export function formatListenAddr(a: ListenAddr): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

const addrField = z.string({ error: EXPECTED }).transform((v, ctx) => {
  const a = parseListenAddr(v);
  if (typeof a === 'string') {
    ctx.addIssue({ code: 'custom', message: a });
    return z.NEVER;
  }
  return v.trim();
});

const metricsFields = z.strictObject({
  /**
   * Where `opsdeck watch` serves GET /metrics (Prometheus text format). Unset: no endpoint (the
   * `--metrics-addr` flag wins over it). No authentication: keep it on loopback or behind a proxy.
   */
  addr: addrField.optional(),
  /** The `host` label of local checks and containers; default this machine's hostname (`os.hostname()`). */
  host: z
    .string({ error: 'expected a label value such as db1' })
    .min(1, 'expected a label value such as db1')
    .max(253, 'expected at most 253 characters')
    .refine((v) => !/[\x00-\x1f\x7f]/.test(v), { message: 'expected no control characters' })
    .optional(),
});

/** The `metrics:` section (optional as a whole). */
export const metricsSchema = metricsFields.default(() => ({}));

/** The validated section. */
export type MetricsConfig = z.output<typeof metricsFields>;
