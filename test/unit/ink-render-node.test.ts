import { describe, expect, it } from 'vitest';
import Yoga from 'yoga-layout';
import renderNodeToOutput from '../../src/ui/ink/render-node-to-output.js';
// Ink's own modules (not in its package exports), to build DOM trees and compare with.
import { appendChildNode, createNode, createTextNode, setStyle, type DOMElement } from '../../node_modules/ink/build/dom.js';
import inkRenderNodeToOutput from '../../node_modules/ink/build/render-node-to-output.js';
import InkOutput from '../../node_modules/ink/build/output.js';
import applyStyles, { type Styles } from '../../node_modules/ink/build/styles.js';
import { cells } from '../helpers/render.js';

// The render-node-to-output swap (issue #27 point 2: fewer calls into yoga per node) must draw what
// Ink's own module draws, on the trees the console is made of: boxes with padding, borders and
// margins, rows and columns, texts wrapped and truncated, coloured runs, clipping, hidden boxes.

const E = '\u001B[';
type Spec = { box: Styles; kids: Spec[] } | { text: string | (string | { color: string; text: string })[]; style?: Styles };

function build(spec: Spec): DOMElement {
  if ('box' in spec) {
    const node = createNode('ink-box');
    setStyle(node, spec.box);
    applyStyles(node.yogaNode!, spec.box);
    for (const k of spec.kids) appendChildNode(node, build(k));
    return node;
  }
  const node = createNode('ink-text');
  const style: Styles = { flexGrow: 0, flexShrink: 1, flexDirection: 'row', ...spec.style };
  setStyle(node, style);
  applyStyles(node.yogaNode!, style);
  for (const part of typeof spec.text === 'string' ? [spec.text] : spec.text) {
    if (typeof part === 'string') {
      appendChildNode(node, createTextNode(part) as unknown as DOMElement);
      continue;
    }
    const v = createNode('ink-virtual-text');
    v.internal_transform = (s: string) => `${E}${part.color}m${s}${E}39m`;
    appendChildNode(v, createTextNode(part.text) as unknown as DOMElement);
    appendChildNode(node, v);
  }
  return node;
}

/** The frame of `spec` at `width` columns, drawn by `render` into Ink's Output. */
function frame(spec: Spec, width: number, render: typeof inkRenderNodeToOutput): string {
  const root = createNode('ink-root');
  appendChildNode(root, build(spec));
  root.yogaNode!.setWidth(width);
  root.yogaNode!.calculateLayout(undefined, undefined, Yoga.DIRECTION_LTR);
  const output = new InkOutput({ width: root.yogaNode!.getComputedWidth(), height: root.yogaNode!.getComputedHeight() });
  render(root, output, { skipStaticElements: true });
  return output.get().output;
}

const t = (text: Extract<Spec, { text: unknown }>['text'], style?: Styles): Spec => ({ text, ...(style ? { style } : {}) });
const box = (style: Styles, ...kids: Spec[]): Spec => ({ box: style, kids });

const cases: [string, Spec, number][] = [
  ['a column of texts', box({ flexDirection: 'column' }, t('cpu 12%'), t('mem 40%'), t('')), 40],
  ['a row with margins and a flexible middle', box({ flexDirection: 'row' }, t('left'), box({ flexGrow: 1, marginLeft: 2, marginRight: 1 }, t('middle')), t('right')), 50],
  ['padding and a round border', box({ borderStyle: 'round', paddingX: 2, paddingY: 1, flexDirection: 'column' }, t('inside the box'), t('second line')), 30],
  ['a text wrapped to a narrow box', box({ width: 12 }, t('the quick brown fox jumps over the lazy dog')), 40],
  ['a text truncated at the end and in the middle', box({ flexDirection: 'column', width: 14 }, t('a long container name here', { textWrap: 'truncate-end' }), t('abcdefghijklmnopqrstuvwxyz', { textWrap: 'truncate-middle' })), 40],
  ['coloured runs inside a text', box({}, t(['name ', { color: '31', text: 'CRITICAL' }, ' since ', { color: '2', text: '12:00' }])), 40],
  ['clipped: overflow hidden', box({ height: 2, overflow: 'hidden', flexDirection: 'column' }, t('one'), t('two'), t('three')), 20],
  ['clipped with a border', box({ width: 10, height: 4, overflowX: 'hidden', borderStyle: 'single' }, t('0123456789abcdef', { textWrap: 'wrap' })), 20],
  ['a hidden box takes no room and draws nothing', box({ flexDirection: 'column' }, t('shown'), box({ display: 'none' }, t('hidden')), t('after')), 20],
  ['wide characters and a sparkline', box({ flexDirection: 'row', gap: 1 }, t('日本語テキスト'), t('▁▂▃▅▇')), 20],
  [
    'a dashboard-like layout',
    box(
      { flexDirection: 'column' },
      box({ flexDirection: 'row' }, t(' bench ', {}), t(' vm 10:03:07 PM '), t('health 100% OK')),
      box({ flexDirection: 'row' }, box({ flexDirection: 'column', width: 60 }, t('▶ Containers (50/50 running)'), ...Array.from({ length: 5 }, (_, i) => t(`idle${i}    running   -   0.0%  1m  0  304 KiB`))), box({ flexDirection: 'column', flexGrow: 1, borderStyle: 'single' }, t('Alerts (0 firing)'), t('no alerts — every check passes', { textWrap: 'truncate-end' }))),
    ),
    100,
  ],
];

describe('render-node-to-output swap draws what Ink’s own module draws (issue #27 point 2)', () => {
  it.each(cases)('%s', (_name, spec, width) => {
    const ours = frame(spec, width, renderNodeToOutput);
    const ink = frame(spec, width, inkRenderNodeToOutput);
    expect(ours).toBe(ink);
    expect(cells(ours)).toEqual(cells(ink));
  });
});
