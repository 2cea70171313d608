import type BetterSqlite3 from 'better-sqlite3';

/** Tables of the DR plan's trading system, critical first (docs/DESIGN.md §1, staged restore). */
export const CRITICAL_TABLES = ['trades', 'portfolios', 'strategies'];
export const NORMAL_TABLES = ['market_data', 'backtest_results'];

const SCHEMA = `
CREATE TABLE strategies (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, params TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE portfolios (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, strategy_id INTEGER NOT NULL REFERENCES strategies(id), cash REAL NOT NULL);
CREATE TABLE trades (
  id INTEGER PRIMARY KEY, portfolio_id INTEGER NOT NULL REFERENCES portfolios(id), symbol TEXT NOT NULL,
  side TEXT NOT NULL CHECK (side IN ('buy', 'sell')), qty INTEGER NOT NULL, price REAL NOT NULL, executed_at TEXT NOT NULL);
CREATE INDEX trades_portfolio ON trades(portfolio_id, executed_at);
CREATE TABLE market_data (
  id INTEGER PRIMARY KEY, symbol TEXT NOT NULL, ts TEXT NOT NULL, open REAL, high REAL, low REAL, close REAL, volume INTEGER);
CREATE INDEX market_data_symbol_ts ON market_data(symbol, ts);
CREATE TABLE backtest_results (
  id INTEGER PRIMARY KEY, strategy_id INTEGER NOT NULL REFERENCES strategies(id), run_at TEXT NOT NULL,
  sharpe REAL, max_drawdown REAL, pnl REAL);
`;

export const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'TSMC', 'AMZN', 'GOOG', 'META', 'BTC', 'ETH', 'SPY'];

/** A tiny deterministic PRNG, so two demo databases hold the same data. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Creates the demo trading database with realistic volumes (100k market_data rows by default). */
export function seedTradingDb(db: BetterSqlite3.Database, opts: { marketRows?: number; trades?: number; now?: number } = {}): void {
  const marketRows = opts.marketRows ?? 100_000;
  const trades = opts.trades ?? 2_000;
  const now = opts.now ?? Date.now();
  const rand = rng(42);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.exec(SCHEMA);
  db.transaction(() => {
    const strat = db.prepare('INSERT INTO strategies (name, params, created_at) VALUES (?, ?, ?)');
    for (const [i, name] of ['mean-reversion', 'momentum', 'pairs', 'market-making', 'trend'].entries())
      strat.run(name, JSON.stringify({ lookback: 10 + i * 5, risk: 0.01 * (i + 1) }), new Date(now - 90 * 86_400_000).toISOString());
    const port = db.prepare('INSERT INTO portfolios (name, strategy_id, cash) VALUES (?, ?, ?)');
    for (let i = 1; i <= 10; i++) port.run(`portfolio-${i}`, ((i - 1) % 5) + 1, 100_000 + i * 5_000);
    const md = db.prepare('INSERT INTO market_data (symbol, ts, open, high, low, close, volume) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const perSymbol = Math.ceil(marketRows / SYMBOLS.length);
    for (let n = 0; n < marketRows; n++) {
      const sym = SYMBOLS[n % SYMBOLS.length] as string;
      const base = 100 + (n % SYMBOLS.length) * 37;
      const o = base + rand() * 10;
      const ts = new Date(now - (perSymbol - Math.floor(n / SYMBOLS.length)) * 60_000).toISOString();
      md.run(sym, ts, o, o + rand() * 2, o - rand() * 2, o + rand() - 0.5, Math.floor(rand() * 10_000));
    }
    const bt = db.prepare('INSERT INTO backtest_results (strategy_id, run_at, sharpe, max_drawdown, pnl) VALUES (?, ?, ?, ?, ?)');
    for (let i = 0; i < 200; i++) bt.run((i % 5) + 1, new Date(now - i * 3_600_000).toISOString(), rand() * 3, rand() * 0.3, (rand() - 0.3) * 50_000);
    const tr = db.prepare('INSERT INTO trades (portfolio_id, symbol, side, qty, price, executed_at) VALUES (?, ?, ?, ?, ?, ?)');
    for (let i = 0; i < trades; i++) {
      tr.run((i % 10) + 1, SYMBOLS[i % SYMBOLS.length], rand() < 0.5 ? 'buy' : 'sell', 1 + Math.floor(rand() * 100), 100 + rand() * 300, new Date(now - (trades - i) * 30_000).toISOString());
    }
  })();
}
