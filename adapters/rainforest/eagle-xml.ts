import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * The Eagle answers with an XML fragment whose root tag names the result (`<InstantaneousDemand>`,
 * `<DeviceList>`, `<Device>`, `<Error>`). Every value stays a string: MAC ids exceed 2^53 and hex
 * fields must be decoded by their meaning, never guessed by a generic number parser.
 */

/** The device's answer is not XML, not the expected document, or an `<Error>`. */
export class EagleResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EagleResponseError';
  }
}

export type XmlNode = string | XmlElement | XmlNode[];
export interface XmlElement {
  readonly [name: string]: XmlNode;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  trimValues: true,
});

function isElement(node: XmlNode | undefined): node is XmlElement {
  return typeof node === 'object' && !Array.isArray(node);
}

/** Parses a response; returns the root tag and its element. */
export function parseEagleXml(text: string): { root: string; element: XmlElement } {
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new EagleResponseError(`malformed XML (line ${valid.err.line}): ${valid.err.msg}`);
  }
  // fast-xml-parser types its result as any; with parseTagValue off it is strings and objects only.
  const doc = parser.parse(text) as XmlElement;
  const roots = Object.keys(doc);
  if (roots.length !== 1) throw new EagleResponseError(`expected one root element, got ${roots.length}`);
  const root = roots[0];
  const node = doc[root];
  // A text-only root (`<Error>Unauthorized</Error>`) keeps its text under #text.
  return { root, element: isElement(node) ? node : typeof node === 'string' && node !== '' ? { '#text': node } : {} };
}

/** The text of child `name`: '' for an empty element, undefined when absent or not text. */
export function childText(element: XmlElement, name: string): string | undefined {
  const node = element[name];
  return typeof node === 'string' ? node : undefined;
}

/** The text of a child that must be there. */
export function requiredText(element: XmlElement, name: string, where: string): string {
  const text = childText(element, name);
  if (text === undefined || text === '') throw new EagleResponseError(`${where}: missing <${name}>`);
  return text;
}

export function childElement(element: XmlElement, name: string): XmlElement | undefined {
  const node = element[name];
  return isElement(node) ? node : undefined;
}

/** Children `name` as a list: one child parses as an element, several as an array. */
export function childElements(element: XmlElement, name: string): XmlElement[] {
  const node = element[name];
  if (Array.isArray(node)) return node.filter(isElement);
  return isElement(node) ? [node] : [];
}

/** The `<Error>` document's text, for the error message (its structure is not documented). */
export function describeErrorDocument(element: XmlElement): string {
  const parts = Object.entries(element)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== '')
    .map(([k, v]) => (k === '#text' ? v.slice(0, 200) : `${k}: ${v.slice(0, 200)}`));
  return parts.length ? parts.join('; ') : 'no details';
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);
}
