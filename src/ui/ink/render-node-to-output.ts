// Ink 6.8's render-node-to-output.js with fewer calls into yoga; scripts/build.mjs points Ink's import
// here (its renderer.js). Issue #27 point 2 (the idle console's CPU): Ink asked yoga for each node's
// left and top, and for each text its width, left and right padding and left and right border —
// seven calls through yoga's JavaScript bindings per text node per frame, each allocating its
// argument list (the console's interpreter-only code makes them dearer still). Here one
// getComputedLayout() gives left, top and width; a text's padding and border are asked for only
// when its style has any (Ink's <Text> and <Transform> never set them: only a <Box> has them).
// widest-line is textWidth (./width.ts), as the widest-line swap was. Everything else is Ink's code,
// step for step (test/ui/console.test.tsx and test/unit/ink-render-node.test.ts compare frames).
import indentString from 'indent-string';
import Yoga, { type Node as YogaNode } from 'yoga-layout';
import type { DOMElement, DOMNode } from '../../../node_modules/ink/build/dom.js';
import type Output from '../../../node_modules/ink/build/output.js';
import type { OutputTransformer } from '../../../node_modules/ink/build/render-node-to-output.js';
import renderBackground from '../../../node_modules/ink/build/render-background.js';
import renderBorder from '../../../node_modules/ink/build/render-border.js';
import squashTextNodes from '../../../node_modules/ink/build/squash-text-nodes.js';
import { textWidth } from './width.js';
import wrapText from './wrap.js';

/** Ink's get-max-width.js: the width inside padding and border. */
function boxMaxWidth(yogaNode: YogaNode): number {
  return (
    yogaNode.getComputedWidth() -
    yogaNode.getComputedPadding(Yoga.EDGE_LEFT) -
    yogaNode.getComputedPadding(Yoga.EDGE_RIGHT) -
    yogaNode.getComputedBorder(Yoga.EDGE_LEFT) -
    yogaNode.getComputedBorder(Yoga.EDGE_RIGHT)
  );
}

const BOX_MODEL = ['padding', 'paddingX', 'paddingY', 'paddingTop', 'paddingBottom', 'paddingLeft', 'paddingRight', 'borderStyle'] as const;

/** Whether a node's style gives it padding or a border (then its width inside them needs yoga's figures). */
function hasBoxModel(style: DOMElement['style']): boolean {
  const s = style as Record<string, unknown>;
  // Index loops here and below: the console runs without TurboFan, where for…of allocates an iterator and a result per step.
  for (let i = 0; i < BOX_MODEL.length; i++) if (s[BOX_MODEL[i]!] !== undefined) return true;
  return false;
}

// Ink's applyPaddingToText: a text node's first child with a layout of its own offsets the text.
const applyPaddingToText = (node: DOMElement, text: string): string => {
  const yogaNode = (node.childNodes[0] as DOMElement | undefined)?.yogaNode;
  if (yogaNode) {
    const offsetX = yogaNode.getComputedLeft();
    const offsetY = yogaNode.getComputedTop();
    text = '\n'.repeat(offsetY) + indentString(text, offsetX);
  }
  return text;
};

/** Ink's renderNodeToScreenReaderOutput, unchanged. */
export const renderNodeToScreenReaderOutput = (node: DOMElement, options: { parentRole?: string; skipStaticElements?: boolean } = {}): string => {
  if (options.skipStaticElements && node.internal_static) return '';
  if (node.yogaNode?.getDisplay() === Yoga.DISPLAY_NONE) return '';
  let output = '';
  if (node.nodeName === 'ink-text') {
    output = squashTextNodes(node);
  } else if (node.nodeName === 'ink-box' || node.nodeName === 'ink-root') {
    const separator = node.style.flexDirection === 'row' || node.style.flexDirection === 'row-reverse' ? ' ' : '\n';
    const childNodes = node.style.flexDirection === 'row-reverse' || node.style.flexDirection === 'column-reverse' ? [...node.childNodes].reverse() : [...node.childNodes];
    output = childNodes
      .map((childNode: DOMNode) =>
        renderNodeToScreenReaderOutput(childNode as DOMElement, {
          ...(node.internal_accessibility?.role !== undefined ? { parentRole: node.internal_accessibility.role } : {}),
          ...(options.skipStaticElements !== undefined ? { skipStaticElements: options.skipStaticElements } : {}),
        }),
      )
      .filter(Boolean)
      .join(separator);
  }
  if (node.internal_accessibility) {
    const { role, state } = node.internal_accessibility;
    if (state) {
      const stateDescription = (Object.keys(state) as (keyof typeof state)[]).filter((key) => state[key]).join(', ');
      if (stateDescription) output = `(${stateDescription}) ${output}`;
    }
    if (role && role !== options.parentRole) output = `${role}: ${output}`;
  }
  return output;
};

/** After nodes are laid out, renders each to the output (Ink's renderNodeToOutput, with its yoga calls gathered). */
const renderNodeToOutput = (node: DOMElement, output: Output, options: { offsetX?: number; offsetY?: number; transformers?: OutputTransformer[]; skipStaticElements: boolean }): void => {
  const { offsetX = 0, offsetY = 0, transformers = [], skipStaticElements } = options;
  if (skipStaticElements && node.internal_static) return;
  const { yogaNode } = node;
  if (!yogaNode) return;
  if (yogaNode.getDisplay() === Yoga.DISPLAY_NONE) return;
  // One call for left, top and width (Ink made two here and five more for a text's width).
  const layout = yogaNode.getComputedLayout();
  const x = offsetX + layout.left;
  const y = offsetY + layout.top;
  let newTransformers = transformers;
  if (typeof node.internal_transform === 'function') newTransformers = [node.internal_transform, ...transformers];
  if (node.nodeName === 'ink-text') {
    let text = squashTextNodes(node);
    if (text.length > 0) {
      const currentWidth = textWidth(text);
      const maxWidth = hasBoxModel(node.style) ? boxMaxWidth(yogaNode) : layout.width;
      if (currentWidth > maxWidth) text = wrapText(text, maxWidth, node.style.textWrap ?? 'wrap');
      text = applyPaddingToText(node, text);
      output.write(x, y, text, { transformers: newTransformers });
    }
    return;
  }
  let clipped = false;
  if (node.nodeName === 'ink-box') {
    renderBackground(x, y, node, output);
    renderBorder(x, y, node, output);
    const clipHorizontally = node.style.overflowX === 'hidden' || node.style.overflow === 'hidden';
    const clipVertically = node.style.overflowY === 'hidden' || node.style.overflow === 'hidden';
    if (clipHorizontally || clipVertically) {
      const x1 = clipHorizontally ? x + yogaNode.getComputedBorder(Yoga.EDGE_LEFT) : undefined;
      const x2 = clipHorizontally ? x + layout.width - yogaNode.getComputedBorder(Yoga.EDGE_RIGHT) : undefined;
      const y1 = clipVertically ? y + yogaNode.getComputedBorder(Yoga.EDGE_TOP) : undefined;
      const y2 = clipVertically ? y + layout.height - yogaNode.getComputedBorder(Yoga.EDGE_BOTTOM) : undefined;
      output.clip({ x1, x2, y1, y2 });
      clipped = true;
    }
  }
  if (node.nodeName === 'ink-root' || node.nodeName === 'ink-box') {
    const children = node.childNodes;
    for (let i = 0; i < children.length; i++) {
      renderNodeToOutput(children[i] as DOMElement, output, { offsetX: x, offsetY: y, transformers: newTransformers, skipStaticElements });
    }
    if (clipped) output.unclip();
  }
};

export default renderNodeToOutput;
