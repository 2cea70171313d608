// Types of scripts/ink-swaps.mjs (plain JavaScript, run by Node without a compiler) for the tests.
import type { Metafile, Plugin } from 'esbuild';

/** One of Ink's internal imports pointed at our module. */
export interface InkSwap {
  /** The specifier as Ink's build imports it (`./output.js`, `./render-node-to-output.js`). */
  specifier: string;
  /** Our module, from the project's root. */
  target: string;
  /** The file of Ink's package it replaces (`build/output.js`); none for a package. */
  replaces?: string;
}

/** The project's root (esbuild's working directory). */
export const ROOT: string;
/** Ink versions every swap is proven against. */
export const TESTED_INK: readonly string[];
/** The swaps the build makes. */
export const INK_SWAPS: readonly InkSwap[];
/** The esbuild plugin: Ink's imports of each specifier resolve to our module. */
export function inkSwapsPlugin(swaps?: readonly InkSwap[], root?: string): Plugin;
/** Why an Ink version may not be built with the swaps (undefined when it may). */
export function inkVersionProblem(version: string, tested?: readonly string[], where?: string): string | undefined;
/** Before building: the installed Ink is tested, every swap's module exists. One line per problem. */
export function preflight(swaps?: readonly InkSwap[], tested?: readonly string[], root?: string): string[];
/** After building: what the metafile proves about the swaps. One line per problem. */
export function checkBundle(metafile: Metafile, swaps?: readonly InkSwap[], tested?: readonly string[], root?: string): string[];
