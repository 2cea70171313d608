// The order services start in (issue #17: full-system-recovery, app-update): each after the
// services it `depends_on`, otherwise in the configuration's order; they stop in the reverse.
// The configuration refuses a cycle (src/config/schema-apps.ts), so an order always exists.

/** The names in start order: dependencies first, ties in the order given. Unknown dependencies are ignored. */
export function startOrder(services: readonly { name: string; depends_on: readonly string[] }[], only?: readonly string[]): string[] {
  const deps = new Map(services.map((s) => [s.name, s.depends_on]));
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (n: string, path: Set<string>) => {
    if (seen.has(n) || path.has(n) || !deps.has(n)) return;
    path.add(n);
    for (const d of deps.get(n) ?? []) visit(d, path);
    path.delete(n);
    seen.add(n);
    out.push(n);
  };
  for (const s of services) visit(s.name, new Set());
  return only ? out.filter((n) => only.includes(n)) : out;
}

/** The names in stop order: the reverse of the start order. */
export const stopOrder = (services: readonly { name: string; depends_on: readonly string[] }[], only?: readonly string[]): string[] => startOrder(services, only).reverse();
